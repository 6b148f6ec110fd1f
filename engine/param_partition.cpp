#include "engine/param_partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pipeline {

namespace {

// Row counts per worker that add `cost` to `loads` as evenly as possible:
// the level L with sum_k max(0, L - load_k) = cost, in whole rows.
std::vector<int64_t> WaterFill(const std::vector<double>& loads, double cost, int64_t rows) {
  const int parts = static_cast<int>(loads.size());
  std::vector<double> sorted = loads;
  std::sort(sorted.begin(), sorted.end());
  // Raise the level past the lightest workers one at a time.
  double level = sorted[0] + cost;
  for (int m = 1; m <= parts; ++m) {
    const double sum = std::accumulate(sorted.begin(), sorted.begin() + m, 0.0);
    level = (sum + cost) / m;
    if (m == parts || level <= sorted[m]) break;
  }
  // Cumulative rounding keeps the ranges contiguous and the total exact.
  std::vector<int64_t> counts(parts, 0);
  double filled = 0.0;
  int64_t given = 0;
  for (int k = 0; k < parts; ++k) {
    filled += cost > 0.0 ? std::max(0.0, level - loads[k]) / cost : 1.0 / parts;
    const int64_t upto = k == parts - 1 ? rows : std::min<int64_t>(rows, std::llround(filled * rows));
    counts[k] = std::max<int64_t>(0, upto - given);
    given += counts[k];
  }
  return counts;
}

}  // namespace

ParamPartition PartitionParams(const std::vector<Param*>& params, const std::vector<ParamWork>& work, int parts) {
  ParamPartition shares(parts);
  std::vector<double> loads(parts, 0.0);
  std::vector<size_t> whole, divisible;
  for (size_t i = 0; i < params.size(); ++i) (work[i].divisible && parts > 1 ? divisible : whole).push_back(i);
  std::stable_sort(whole.begin(), whole.end(), [&](size_t a, size_t b) { return work[a].cost > work[b].cost; });
  for (size_t i : whole) {
    const int k = static_cast<int>(std::min_element(loads.begin(), loads.end()) - loads.begin());
    shares[k].push_back({i, AllRows(*params[i])});
    loads[k] += work[i].cost;
  }
  for (size_t i : divisible) {
    const int64_t rows = AllRows(*params[i]).rows;
    const std::vector<int64_t> counts = WaterFill(loads, work[i].cost, rows);
    int64_t begin = 0;
    for (int k = 0; k < parts; ++k) {
      if (counts[k] > 0) shares[k].push_back({i, Rows(*params[i], begin, counts[k])});
      loads[k] += work[i].cost * static_cast<double>(counts[k]) / static_cast<double>(std::max<int64_t>(rows, 1));
      begin += counts[k];
    }
  }
  for (auto& list : shares) {
    std::sort(list.begin(), list.end(), [](const ParamShare& a, const ParamShare& b) { return a.param < b.param; });
  }
  return shares;
}

}  // namespace pipeline
