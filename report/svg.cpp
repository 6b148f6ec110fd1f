#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace pipeline::report::svg {
namespace {

std::string F(double v) { return fmt::format("{:.1f}", v); }

}  // namespace

std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Color(size_t i) {
  static const char* palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return palette[i % 10];
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "–";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.3g}", v);
  std::string s = fmt::format("{:.4g}", v);
  return s;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  // The 1/2/5 x 10^k step whose tick count is closest to `target`.
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag, best = INFINITY;
  for (double m : {0.5, 1.0, 2.0, 5.0, 10.0}) {
    const double n = (hi - lo) / (m * mag);
    if (std::fabs(n - target) < best) best = std::fabs(n - target), step = m * mag;
  }
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; ++k) ticks.push_back(k == 0 ? 0.0 : k * step);
  return ticks;
}

std::string Chart(const Axes& axes, const std::vector<Series>& series) {
  const double W = axes.width, H = axes.height;
  const double left = 62, right = 16, top = axes.title.empty() ? 14 : 34, bottom = 48;
  // Legend below the plot, as many entries per row as the longest name allows.
  auto legend_name = [](const std::string& n) { return n.size() > 48 ? n.substr(0, 47) + "…" : n; };
  size_t longest = 1;
  for (const auto& s : series) longest = std::max(longest, legend_name(s.name).size());
  const double item_w = longest * 6.4 + 34;
  const size_t per_row = std::max<size_t>(1, std::min<size_t>(4, static_cast<size_t>((W - left - right) / item_w)));
  const size_t legend_rows = axes.legend && !series.empty() ? (series.size() + per_row - 1) / per_row : 0;
  const double legend_h = legend_rows * 18.0 + (legend_rows ? 6 : 0);
  const double total_h = H + legend_h;
  const double pw = W - left - right, ph = H - top - bottom;

  // Data ranges.
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      const double x = s.x[i], y = s.y[i];
      if (!std::isfinite(x) || !std::isfinite(y) || (axes.log_x && x <= 0)) continue;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  const bool empty = !(xmin <= xmax);
  if (empty) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (!axes.categories.empty()) xmin = -0.5, xmax = axes.categories.size() - 0.5;
  if (!std::isnan(axes.y_min)) ymin = axes.y_min;
  if (!std::isnan(axes.y_max)) ymax = axes.y_max;
  if (ymax <= ymin) {
    const double pad = ymin == 0 ? 1 : std::fabs(ymin) * 0.1;
    ymin -= pad, ymax += pad;
  } else if (std::isnan(axes.y_min) || std::isnan(axes.y_max)) {
    const double pad = (ymax - ymin) * 0.05;
    if (std::isnan(axes.y_min)) ymin -= pad;
    if (std::isnan(axes.y_max)) ymax += pad;
  }
  double lxmin = xmin, lxmax = xmax;
  if (axes.log_x) {
    lxmin = std::log10(xmin), lxmax = std::log10(xmax);
    if (lxmax - lxmin < 1e-9) lxmin -= 0.5, lxmax += 0.5;
    const double pad = (lxmax - lxmin) * 0.06;
    lxmin -= pad, lxmax += pad;
  } else if (axes.categories.empty()) {
    if (xmax - xmin < 1e-12) xmin -= 1, xmax += 1;
    lxmin = xmin, lxmax = xmax;
    if (axes.pad_x) {
      const double pad = (lxmax - lxmin) * 0.06;
      lxmin -= pad, lxmax += pad;
    }
  }
  auto sx = [&](double x) {
    const double v = axes.log_x ? std::log10(x) : x;
    return left + (v - lxmin) / (lxmax - lxmin) * pw;
  };
  auto sy = [&](double y) { return top + (1 - (y - ymin) / (ymax - ymin)) * ph; };

  std::string o = fmt::format(
      "<svg class=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">\n",
      axes.css_class, W, total_h, W, total_h, Escape(axes.title));
  o += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>\n", W, total_h);
  if (!axes.title.empty())
    o += fmt::format("<text x=\"{}\" y=\"20\" text-anchor=\"middle\" class=\"title\">{}</text>\n", F(W / 2),
                     Escape(axes.title));
  // Grid and y ticks.
  for (double t : NiceTicks(ymin, ymax, 5)) {
    if (t < ymin - 1e-12 || t > ymax + 1e-12) continue;
    o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", F(left), F(sy(t)), F(left + pw),
                     F(sy(t)));
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>\n", F(left - 6),
                     F(sy(t) + 4), FormatNumber(t));
  }
  // X ticks.
  std::vector<std::pair<double, std::string>> xt;
  if (!axes.categories.empty()) {
    for (size_t i = 0; i < axes.categories.size(); ++i) xt.emplace_back(static_cast<double>(i), axes.categories[i]);
  } else if (axes.log_x) {
    for (int e = static_cast<int>(std::floor(lxmin)); e <= static_cast<int>(std::ceil(lxmax)); ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        const double lv = std::log10(v);
        if (lv < lxmin || lv > lxmax) continue;
        if (m != 1.0 && lxmax - lxmin > 3) continue;  // wide ranges: decades only
        xt.emplace_back(v, FormatNumber(v));
      }
    }
  } else {
    for (double t : NiceTicks(lxmin, lxmax, 6)) {
      if (axes.integer_x && std::fabs(t - std::round(t)) > 1e-9) continue;
      xt.emplace_back(t, FormatNumber(t));
    }
  }
  for (const auto& [v, label] : xt) {
    const double x = sx(v);
    if (x < left - 0.5 || x > left + pw + 0.5) continue;
    o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", F(x), F(top), F(x), F(top + ph));
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">{}</text>\n", F(x),
                     F(top + ph + 16), Escape(label));
  }
  o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>\n", F(left), F(top), F(pw),
                   F(ph));
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">{}</text>\n", F(left + pw / 2),
                   F(top + ph + 36), Escape(axes.x_label));
  o += fmt::format(
      "<text x=\"14\" y=\"{}\" text-anchor=\"middle\" class=\"label\" transform=\"rotate(-90 14 {})\">{}</text>\n",
      F(top + ph / 2), F(top + ph / 2), Escape(axes.y_label));
  if (empty)
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">no data</text>\n",
                     F(left + pw / 2), F(top + ph / 2));

  // Series.
  for (const auto& s : series) {
    const std::string color = s.color.empty() ? Color(&s - series.data()) : s.color;
    o += fmt::format("<g class=\"series\" data-name=\"{}\">", Escape(s.name));
    if (s.lines) {
      std::string d;
      bool pen = false;
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i]) || (axes.log_x && s.x[i] <= 0)) {
          pen = false;
          continue;
        }
        d += fmt::format("{}{},{} ", pen ? "L" : "M", F(sx(s.x[i])), F(sy(s.y[i])));
        pen = true;
      }
      if (!d.empty())
        o += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>", d, color,
                         s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    }
    if (s.markers) {
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i]) || (axes.log_x && s.x[i] <= 0)) continue;
        const std::string xs = axes.categories.empty() ? FormatNumber(s.x[i])
                                                       : axes.categories[static_cast<size_t>(s.x[i])];
        o += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"><title>{}: {} = {}</title></circle>",
                         F(sx(s.x[i])), F(sy(s.y[i])), color, Escape(s.name), Escape(xs), FormatNumber(s.y[i]));
      }
    }
    o += "</g>\n";
  }
  // Legend.
  if (legend_rows) {
    const double col_w = pw / per_row;
    for (size_t i = 0; i < series.size(); ++i) {
      const double x = left + (i % per_row) * col_w, y = H + (i / per_row) * 18.0 + 4;
      const std::string color = series[i].color.empty() ? Color(i) : series[i].color;
      // A line for curves, a dot for series drawn as points only.
      const std::string key =
          series[i].lines
              ? fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"{}/>",
                            F(x), F(y), F(x + 18), F(y), color, series[i].dashed ? " stroke-dasharray=\"5 3\"" : "")
              : fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>", F(x + 9), F(y), color);
      o += fmt::format("<g class=\"legend\">{}<text x=\"{}\" y=\"{}\" class=\"tick\">{}</text></g>\n", key,
                       F(x + 24), F(y + 4), Escape(legend_name(series[i].name)));
    }
  }
  o += "</svg>\n";
  return o;
}

std::string HeatMap(const std::vector<std::vector<double>>& counts, const std::vector<std::string>& names,
                    const std::string& title) {
  const size_t n = counts.size();
  size_t longest = 1;
  for (const auto& s : names) longest = std::max(longest, s.size());
  const double cell = n <= 10 ? 44 : std::max(14.0, 440.0 / n);
  const double label_w = std::min<double>(longest, 16) * 7.0 + 12;
  const double left = label_w + 22, top = 34 + label_w;  // column labels are rotated
  const double W = left + cell * n + 20, H = top + cell * n + 40;
  std::string o = fmt::format(
      "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
      "height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
      F(W), F(H), F(W), F(H), Escape(title));
  o += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>\n", F(W), F(H));
  o += fmt::format("<text x=\"{}\" y=\"20\" text-anchor=\"middle\" class=\"title\">{}</text>\n", F(W / 2),
                   Escape(title));
  auto name = [&](size_t i) {
    std::string s = i < names.size() ? names[i] : std::to_string(i);
    return s.size() > 16 ? s.substr(0, 15) + "…" : s;
  };
  for (size_t r = 0; r < n; ++r) {
    double row_total = 0;
    for (double v : counts[r]) row_total += v;
    const double y = top + r * cell;
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>\n", F(left - 6),
                     F(y + cell / 2 + 4), Escape(name(r)));
    for (size_t c = 0; c < n && c < counts[r].size(); ++c) {
      const double v = counts[r][c];
      const double frac = row_total > 0 ? v / row_total : 0;
      // White to dark blue (#08306b), on the square root so small confusions show.
      const double t = std::sqrt(frac);
      const int R = static_cast<int>(255 - t * (255 - 8)), G = static_cast<int>(255 - t * (255 - 48)),
                B = static_cast<int>(255 - t * (255 - 107));
      const double x = left + c * cell;
      o += fmt::format(
          "<g class=\"cell\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"rgb({},{},{})\" "
          "stroke=\"#fff\"><title>true {} / predicted {}: {} ({:.1f}% of the row)</title></rect>",
          F(x), F(y), F(cell), F(cell), R, G, B, Escape(name(r)), Escape(name(c)), FormatNumber(v), frac * 100);
      if (cell >= 24)
        o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"count\" fill=\"{}\">{}</text>",
                         F(x + cell / 2), F(y + cell / 2 + 4), t > 0.55 ? "#fff" : "#222", FormatNumber(v));
      o += "</g>\n";
    }
  }
  for (size_t c = 0; c < n; ++c) {
    const double x = left + c * cell + cell / 2 + 4, y = top - 6;
    o += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" transform=\"rotate(-60 {} {})\">{}</text>\n", F(x), F(y),
                     F(x), F(y), Escape(name(c)));
  }
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">predicted class</text>\n",
                   F(left + cell * n / 2), F(top + cell * n + 24));
  o += fmt::format(
      "<text x=\"12\" y=\"{}\" text-anchor=\"middle\" class=\"label\" transform=\"rotate(-90 12 {})\">true "
      "class</text>\n",
      F(top + cell * n / 2), F(top + cell * n / 2));
  o += "</svg>\n";
  return o;
}

std::string Bars(const std::vector<std::string>& names, const std::vector<double>& values, const std::string& title,
                 const std::string& value_label) {
  const size_t n = names.size();
  size_t longest = 1;
  for (const auto& s : names) longest = std::max(longest, std::min<size_t>(s.size(), 16));
  const double left = longest * 7.0 + 16, bar_h = 20, gap = 6, top = 34, W = 560;
  const double pw = W - left - 70;
  const double H = top + n * (bar_h + gap) + 36;
  std::string o = fmt::format(
      "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">\n",
      F(W), F(H), F(W), F(H), Escape(title));
  o += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>\n", F(W), F(H));
  o += fmt::format("<text x=\"{}\" y=\"20\" text-anchor=\"middle\" class=\"title\">{}</text>\n", F(W / 2),
                   Escape(title));
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const double x = left + t * pw;
    o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", F(x), F(top - 4), F(x),
                     F(top + n * (bar_h + gap)));
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">{}</text>\n", F(x),
                     F(top + n * (bar_h + gap) + 14), FormatNumber(t));
  }
  for (size_t i = 0; i < n; ++i) {
    const double y = top + i * (bar_h + gap);
    const double v = i < values.size() ? values[i] : NAN;
    std::string name = names[i].size() > 16 ? names[i].substr(0, 15) + "…" : names[i];
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>", F(left - 6),
                     F(y + bar_h / 2 + 4), Escape(name));
    if (std::isfinite(v)) {
      o += fmt::format(
          "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {} "
          "{:.4f}</title></rect>",
          F(left), F(y), F(std::clamp(v, 0.0, 1.0) * pw), F(bar_h), Color(0), Escape(names[i]), Escape(value_label), v);
      o += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\">{:.3f}</text>", F(left + std::clamp(v, 0.0, 1.0) * pw + 4),
                       F(y + bar_h / 2 + 4), v);
    }
    o += "\n";
  }
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"label\">{}</text>\n", F(left + pw / 2),
                   F(H - 4), Escape(value_label));
  o += "</svg>\n";
  return o;
}

}  // namespace pipeline::report::svg
