// The confusion matrix and per-class precision/recall against a small
// hand-computed example, and the files and table the evaluate stage writes.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>

#include "stages/confusion.h"

using pipeline::ConfusionMatrix;

namespace {

// 3 classes, 10 examples (rows: true class, columns: predicted):
//            pred 0  pred 1  pred 2   support
//   true 0      3       1       0        4
//   true 1      0       2       1        3
//   true 2      1       0       2        3
//   predicted   4       3       3
// precision: 0: 3/4 = 0.75   1: 2/3   2: 2/3
// recall:    0: 3/4 = 0.75   1: 2/3   2: 2/3      accuracy: 7/10
ConfusionMatrix Example() {
  ConfusionMatrix m(3);
  const std::vector<int64_t> labels = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
  const std::vector<int64_t> preds = {0, 0, 0, 1, 1, 1, 2, 2, 2, 0};
  m.AddAll(labels, preds);
  return m;
}

}  // namespace

TEST_CASE("evaluate: confusion matrix precision and recall match a hand-computed example") {
  ConfusionMatrix m = Example();
  CHECK(m.total() == 10);
  CHECK(m.at(0, 0) == 3);
  CHECK(m.at(0, 1) == 1);
  CHECK(m.at(1, 2) == 1);
  CHECK(m.at(2, 0) == 1);
  CHECK(m.at(2, 1) == 0);
  CHECK(m.support(0) == 4);
  CHECK(m.support(1) == 3);
  CHECK(m.predicted(0) == 4);
  CHECK(m.predicted(2) == 3);
  CHECK(m.precision(0) == doctest::Approx(0.75));
  CHECK(m.precision(1) == doctest::Approx(2.0 / 3));
  CHECK(m.precision(2) == doctest::Approx(2.0 / 3));
  CHECK(m.recall(0) == doctest::Approx(0.75));
  CHECK(m.recall(1) == doctest::Approx(2.0 / 3));
  CHECK(m.recall(2) == doctest::Approx(2.0 / 3));
  CHECK(m.accuracy() == doctest::Approx(0.7));
}

TEST_CASE("evaluate: a class never predicted or never present has NaN precision or recall") {
  ConfusionMatrix m(3);
  m.Add(0, 0);
  m.Add(1, 0);
  m.Add(7, 0);   // out of range: ignored
  m.Add(0, -1);  // out of range: ignored
  CHECK(m.total() == 2);
  CHECK(m.precision(0) == doctest::Approx(0.5));
  CHECK(std::isnan(m.precision(1)));  // nothing predicted as 1
  CHECK(m.recall(1) == 0.0);
  CHECK(std::isnan(m.recall(2)));     // no example of class 2
  CHECK(std::isnan(ConfusionMatrix(2).accuracy()));
}

TEST_CASE("evaluate: confusion json and csv carry the matrix and per-class scores") {
  ConfusionMatrix m = Example();
  const std::string json = pipeline::ConfusionJson(m, {"cat", "dog", "bird, small"});
  CHECK(json.find("\"classes\": [\"cat\", \"dog\", \"bird, small\"]") != std::string::npos);
  CHECK(json.find("\"matrix\": [[3, 1, 0], [0, 2, 1], [1, 0, 2]]") != std::string::npos);
  CHECK(json.find("\"accuracy\": 0.7") != std::string::npos);
  CHECK(json.find("{\"index\": 0, \"class\": \"cat\", \"support\": 4, \"predicted\": 4, \"precision\": 0.75, "
                  "\"recall\": 0.75}") != std::string::npos);
  const std::string csv = pipeline::ConfusionCsv(m, {"cat", "dog", "bird, small"});
  CHECK(csv ==
        "true\\predicted,cat,dog,\"bird, small\",support,precision,recall\n"
        "cat,3,1,0,4,0.750000,0.750000\n"
        "dog,0,2,1,3,0.666667,0.666667\n"
        "\"bird, small\",1,0,2,3,0.666667,0.666667\n");
}

TEST_CASE("evaluate: the printed confusion table is compact and aligned") {
  ConfusionMatrix m = Example();
  const auto lines = pipeline::ConfusionTable(m, {"cat", "dog", "bird"});
  REQUIRE(lines.size() == 6);  // title, header, 3 rows, precision
  CHECK(lines[0] == "confusion matrix (rows: true class, columns: predicted class)");
  CHECK(lines[1] == "             0   1   2  recall%");
  CHECK(lines[2] == "0 cat        3   1   0     75.0");
  CHECK(lines[4] == "2 bird       1   0   2     66.7");
  CHECK(lines[5] == "precision%  75  67  67");
  for (const auto& l : lines) CHECK(l.size() <= 80);
}
