// PartitionParams: who computes and updates which parameter elements.
#include <doctest/doctest.h>

#include "engine/network.h"
#include "engine/param_partition.h"

using namespace pipeline;

namespace {

Param Matrix(int64_t rows, int64_t cols) { return Param{"m", {rows, cols}, std::vector<float>(rows * cols), {}}; }

// Every element of every parameter is owned by exactly one worker.
void CheckTiles(const std::vector<Param*>& params, const ParamPartition& partition) {
  for (size_t i = 0; i < params.size(); ++i) {
    std::vector<int> owners(params[i]->size(), 0);
    for (const auto& shares : partition)
      for (const ParamShare& s : shares)
        if (s.param == i)
          for (int64_t e = s.range.offset; e < s.range.offset + s.range.len; ++e) ++owners[e];
    for (size_t e = 0; e < owners.size(); ++e) {
      INFO("param " << i << " element " << e);
      CHECK(owners[e] == 1);
    }
  }
}

}  // namespace

TEST_CASE("engine: the tutorial MLP's gradients split evenly across two workers") {
  Runtime runtime(2);
  NetworkSpec spec;
  spec.input = 784;
  spec.layers = {LayerSpec{"dense", "a", 256, "relu", {}, {}}, LayerSpec{"dense", "b", 256, "relu", {}, {}},
                 LayerSpec{"dense", "c", 10, "linear", {}, {}}};
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  const ParamPartition& p = net->Partition(2);
  REQUIRE(p.size() == 2);
  // Costs per example (2*in*out, biases 2*out): a/kernel 401408 (divisible),
  // b/kernel 131072, c/kernel 5120, biases 512, 512, 20. Largest first to
  // the lighter worker: b/kernel to worker 0, the rest to worker 1 (6164).
  // The level is (131072 + 6164 + 401408) / 2 = 269322, so worker 0 gets
  // (269322 - 131072) / 401408 * 784 = 270.02 -> 270 rows of a/kernel.
  REQUIRE(p[0].size() == 2);
  CHECK(p[0][0].param == 0);
  CHECK(p[0][0].range.row_begin == 0);
  CHECK(p[0][0].range.rows == 270);
  CHECK(p[0][1].param == 2);
  CHECK(p[0][1].range.len == 256 * 256);
  REQUIRE(p[1].size() == 5);
  CHECK(p[1][0].param == 0);
  CHECK(p[1][0].range.row_begin == 270);
  CHECK(p[1][0].range.rows == 514);
  CHECK(p[1][0].range.offset == 270 * 256);
  CHECK(p[1][1].param == 1);
  CHECK(p[1][2].param == 3);
  CHECK(p[1][3].param == 4);
  CHECK(p[1][4].param == 5);
  CheckTiles(net->params(), p);
  // One worker owns everything whole.
  const ParamPartition& one = net->Partition(1);
  REQUIRE(one.size() == 1);
  CHECK(one[0].size() == 6);
  CHECK(one[0][0].range.rows == 784);
}

TEST_CASE("engine: a divisible parameter fills the lighter workers first") {
  Param big = Matrix(4, 4), small = Matrix(10, 2);
  // big (cost 100) goes whole to worker 0; all 10 rows of small (cost 10)
  // then go to worker 1, which stays below 100.
  const auto p = PartitionParams({&big, &small}, {{100.0, false}, {10.0, true}}, 2);
  REQUIRE(p[0].size() == 1);
  CHECK(p[0][0].param == 0);
  REQUIRE(p[1].size() == 1);
  CHECK(p[1][0].param == 1);
  CHECK(p[1][0].range.rows == 10);
  // With nothing else, 10 rows over 3 workers: 3, 4, 3 (cumulative rounding).
  const auto even = PartitionParams({&small}, {{10.0, true}}, 3);
  CHECK(even[0][0].range.rows == 3);
  CHECK(even[1][0].range.rows == 4);
  CHECK(even[1][0].range.offset == 3 * 2);
  CHECK(even[2][0].range.rows == 3);
}

TEST_CASE("engine: every partition tiles every parameter exactly once") {
  Param a = Matrix(7, 3), b = Matrix(1, 5), c = Matrix(3, 3), d{"d", {4}, std::vector<float>(4), {}};
  const std::vector<Param*> params = {&a, &b, &c, &d};
  for (int parts = 1; parts <= 6; ++parts) {
    INFO(parts << " workers");
    CHECK(PartitionParams(params, {{21, true}, {5, false}, {9, true}, {4, false}}, parts).size() ==
          static_cast<size_t>(parts));
    CheckTiles(params, PartitionParams(params, {{21, true}, {5, false}, {9, true}, {4, false}}, parts));
    CheckTiles(params, PartitionParams(params, {{0, true}, {0, false}, {0, true}, {0, false}}, parts));
  }
}
