// The sweep results table: sorting by the objective and its renderings.
#include <doctest/doctest.h>

#include <cmath>

#include "sweep/sweep.h"

using namespace pipeline::sweep;

namespace {

TrialResult Make(const std::string& id, const std::string& status, double val, double loss) {
  TrialResult r;
  r.id = id;
  r.status = status;
  r.validation_accuracy = val;
  r.final_loss = loss;
  r.test_accuracy = val - 0.01;
  r.seconds_per_epoch = 1.5;
  r.epochs = 2;
  r.params = {{"optimizer.learning_rate", id}};
  return r;
}

std::vector<std::string> Ids(const std::vector<TrialResult>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_CASE("sweep: results sort by the objective with failed trials last") {
  std::vector<TrialResult> rs = {Make("a", "ok", 0.80, 0.5), Make("b", "failed", NAN, NAN), Make("c", "ok", 0.85, 0.7),
                                 Make("d", "stopped", 0.90, 0.1), Make("e", "ok", NAN, 0.2), Make("f", "ok", 0.85, 0.3)};
  auto max = rs;
  SortResults(&max, Objective{"validation_accuracy", true});
  CHECK(Ids(max) == std::vector<std::string>{"c", "f", "a", "e", "d", "b"});  // ties keep their order; NaN after numbers
  auto min = rs;
  SortResults(&min, Objective{"final_loss", false});
  CHECK(Ids(min) == std::vector<std::string>{"e", "f", "a", "c", "d", "b"});
}

TEST_CASE("sweep: the table has the swept values then the metrics and status") {
  std::vector<TrialResult> rs = {Make("0.05", "ok", 0.8512, 0.4), Make("1000", "failed", NAN, NAN)};
  rs[1].error = "training diverged: the loss is nan at epoch 1; more advice";
  const std::vector<std::string> keys = {"optimizer.learning_rate"};
  const std::string table = FormatTable(rs, keys);
  INFO(table);
  CHECK(table.rfind("rank  trial  optimizer.learning_rate  validation_accuracy  test_accuracy  final_loss  s/epoch  epochs  status\n", 0) == 0);
  CHECK(table.find("1     0.05   0.05                     0.8512               0.8412         0.4000      1.50     2       ok\n") !=
        std::string::npos);
  CHECK(table.find("failed: training diverged: the loss is nan at epoch 1\n") != std::string::npos);
  const std::string csv = ResultsCsv(rs, keys);
  CHECK(csv.rfind("rank,trial,optimizer.learning_rate,validation_accuracy,test_accuracy,final_loss,seconds_per_epoch,epochs,status,error\n", 0) == 0);
  CHECK(csv.find("\n1,0.05,0.05,0.8512,0.8412,0.4,1.5,2,ok,\n") != std::string::npos);
  CHECK(csv.find("\n2,1000,1000,,,,1.5,2,failed,training diverged: the loss is nan at epoch 1; more advice\n") != std::string::npos);
  const std::string md = ResultsMarkdown(rs, keys);
  CHECK(md.rfind("| rank | trial | optimizer.learning_rate |", 0) == 0);
  CHECK(md.find("|---|---|---|") != std::string::npos);
}
