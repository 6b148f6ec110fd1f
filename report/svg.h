// Inline SVG charts for the HTML report: no scripts, no external resources.
// Every chart is a self-contained <svg> element with a viewBox, so it scales
// with the page; points carry <title> tooltips.
#pragma once

#include <string>
#include <vector>

namespace pipeline::report::svg {

// Text escaped for HTML/SVG content and attribute values.
std::string Escape(const std::string& s);

// The i-th colour of a 10-colour qualitative palette (Tableau 10).
std::string Color(size_t i);

struct Series {
  std::string name;
  std::string color;
  std::vector<double> x, y;  // NaN y values are gaps
  bool lines = true;         // connect points
  bool markers = true;
  bool dashed = false;
};

struct Axes {
  std::string title;
  std::string x_label, y_label;
  bool log_x = false;                    // positive x only
  std::vector<std::string> categories;   // non-empty: x is a category index 0..n-1
  double y_min = 0.0 / 0.0, y_max = 0.0 / 0.0;  // NaN: from the data
  bool integer_x = false;                // ticks at whole numbers only (epochs)
  bool pad_x = false;                    // margin left and right of the data (scatter plots)
  int width = 560, height = 300;
  bool legend = true;
  std::string css_class = "chart";
};

// Lines and/or markers of every series on shared axes, with a legend.
std::string Chart(const Axes& axes, const std::vector<Series>& series);

// A heat map of `counts` (rows x cols), shaded by each row's fraction, with
// the count in each cell; rows are true classes, columns predictions.
std::string HeatMap(const std::vector<std::vector<double>>& counts, const std::vector<std::string>& names,
                    const std::string& title);

// Horizontal bars in [0, 1], one per name, labelled with the value.
std::string Bars(const std::vector<std::string>& names, const std::vector<double>& values, const std::string& title,
                 const std::string& value_label);

// "Nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> NiceTicks(double lo, double hi, int target = 5);
// Shortest readable text for a tick or value.
std::string FormatNumber(double v);

}  // namespace pipeline::report::svg
