// TensorBoard event files: framing and checksums, the Event protos, the
// scalars a real 2-epoch run writes, and the hparams plugin summaries.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "common/files.h"
#include "proto/event.pb.h"
#include "proto/hparams.pb.h"
#include "common/json_value.h"
#include "tfformat/crc32c.h"
#include "tfformat/tfrecord.h"
#include "stages/events.h"
#include "stages/events_hparams.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline;
using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

uint64_t Fixed64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
uint32_t Fixed32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Walks a TFRecord file by hand (not through tfrecord::Decode), checking both
// masked CRC32Cs of every record; returns the payloads.
std::vector<std::string> WalkRecords(const std::string& file) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < file.size()) {
    REQUIRE(file.size() - pos >= 16);
    const uint64_t len = Fixed64(file, pos);
    CHECK(Fixed32(file, pos + 8) == crc32c::Mask(crc32c::Value(file.data() + pos, 8)));
    REQUIRE(file.size() - pos - 16 >= len);
    const std::string data = file.substr(pos + 12, len);
    CHECK(Fixed32(file, pos + 12 + len) == crc32c::Mask(crc32c::Value(data)));
    out.push_back(data);
    pos += 16 + len;
  }
  CHECK(pos == file.size());
  return out;
}

// The only event file in `dir`, as Events, checked record by record.
std::vector<tensorflow::Event> EventsIn(const std::string& dir) {
  const auto files = events::ListEventFiles(dir);
  REQUIRE(files.size() == 1);
  CHECK(std::regex_match(std::filesystem::path(files[0]).filename().string(),
                         std::regex(R"(events\.out\.tfevents\.[0-9]{10}\.[^.]+.*\.[0-9]+\.[0-9]+)")));
  std::vector<tensorflow::Event> evs;
  for (const auto& r : WalkRecords(Slurp(files[0]))) {
    evs.emplace_back();
    REQUIRE(evs.back().ParseFromString(r));
  }
  REQUIRE(!evs.empty());
  CHECK(evs[0].file_version() == "brain.Event:2");
  return evs;
}

// tag -> value of one Event's simple_value scalars.
std::map<std::string, float> Scalars(const tensorflow::Event& e) {
  std::map<std::string, float> out;
  for (const auto& v : e.summary().value()) {
    CHECK(v.value_case() == tensorflow::Summary::Value::kSimpleValue);
    out[v.tag()] = v.simple_value();
  }
  return out;
}

}  // namespace

TEST_CASE("events: the writer frames Event records with masked CRC32C and file_version first") {
  const std::string dir = TempDir("events");
  const double before = events::WallTime();
  {
    events::EventWriter w;
    REQUIRE(w.Open(dir + "/train").ok());
    REQUIRE(w.WriteScalars(1, {{"epoch_loss", 2.5}, {"epoch_learning_rate", 0.01}}).ok());
    REQUIRE(w.WriteScalars(2, {{"epoch_loss", 1.25}, {"skipped", NAN}}).ok());
    REQUIRE(w.Close().ok());
  }
  const auto evs = EventsIn(dir + "/train");
  REQUIRE(evs.size() == 3);
  CHECK(evs[0].wall_time() >= before - 1);
  CHECK(evs[0].source_metadata().writer() == "pipeline");
  CHECK(evs[1].step() == 1);
  CHECK(evs[2].step() == 2);
  CHECK(evs[1].wall_time() >= evs[0].wall_time());
  CHECK(evs[2].wall_time() <= events::WallTime());
  CHECK(Scalars(evs[1]) == std::map<std::string, float>{{"epoch_learning_rate", 0.01f}, {"epoch_loss", 2.5f}});
  CHECK(Scalars(evs[2]) == std::map<std::string, float>{{"epoch_loss", 1.25f}});  // NaN: no point

  // The reader agrees, and a flipped byte anywhere is a Corruption.
  std::vector<events::Scalar> scalars;
  REQUIRE(events::ReadScalars(dir + "/train", &scalars).ok());
  REQUIRE(scalars.size() == 3);
  CHECK(scalars[2].tag == "epoch_loss");
  CHECK(scalars[2].step == 2);
  CHECK(scalars[2].value == 1.25);
  const std::string file = events::ListEventFiles(dir + "/train")[0];
  const std::string good = Slurp(file);
  for (size_t i : {size_t{3}, size_t{10}, size_t{20}, good.size() - 2}) {
    std::string bad = good;
    bad[i] ^= 0x01;
    REQUIRE(WriteFileAtomic(file, bad).ok());
    std::vector<tensorflow::Event> evs2;
    CHECK(events::ReadEventFile(file, &evs2).IsCorruption());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("events: a 2-epoch run writes train validation and test scalars that match its metrics") {
  const std::string tmp = TempDir("events-run");
  const std::string run = tmp + "/run";
  auto r = RunPipeline({"run", "configs/fashion_mnist.yaml", "train.epochs=2", "dataset.train.count=3000",
                        "dataset.validation.count=1000", "dataset.test.count=2000", "optimizer.learning_rate=0.005",
                        "--stages", "load,build,train,evaluate", "--run-dir", run});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<pipeline::JsonValue> epochs;
  REQUIRE(pipeline::ReadJsonLines(run + "/metrics.jsonl", &epochs).ok());
  REQUIRE(epochs.size() == 2);
  pipeline::JsonValue summary;
  REQUIRE(pipeline::ReadJsonFile(run + "/summary.json", &summary).ok());

  const auto train = EventsIn(run + "/train");
  REQUIRE(train.size() == 3);  // file_version + 2 epochs
  for (int e = 1; e <= 2; ++e) {
    const auto& m = epochs[e - 1];
    const auto s = Scalars(train[e]);
    CHECK(train[e].step() == e);
    CHECK(s.size() == 3);
    CHECK(s.at("epoch_loss") == static_cast<float>(m["loss"].number()));
    CHECK(s.at("epoch_learning_rate") == 0.005f);
    CHECK(s.at("epoch_examples_per_second") == doctest::Approx(3000 / m["seconds"].number()).epsilon(1e-4));
    MESSAGE("epoch " << e << ": train/epoch_loss " << s.at("epoch_loss") << " epoch_learning_rate "
                     << s.at("epoch_learning_rate") << " epoch_examples_per_second " << s.at("epoch_examples_per_second"));
  }
  const auto validation = EventsIn(run + "/validation");
  REQUIRE(validation.size() == 3);
  for (int e = 1; e <= 2; ++e) {
    const auto& m = epochs[e - 1];
    const auto s = Scalars(validation[e]);
    CHECK(validation[e].step() == e);
    CHECK(s.at("epoch_accuracy") == static_cast<float>(m["validation_accuracy"].number()));
    CHECK(s.at("epoch_loss") == static_cast<float>(m["validation_loss"].number()));
    CHECK(s.at("epoch_accuracy") > 0.3f);
    MESSAGE("epoch " << e << ": validation/epoch_accuracy " << s.at("epoch_accuracy") << " epoch_loss "
                     << s.at("epoch_loss"));
  }
  const auto test = EventsIn(run + "/test");
  REQUIRE(test.size() == 2);
  CHECK(test[1].step() == 2);
  const auto s = Scalars(test[1]);
  CHECK(s.at("epoch_accuracy") == static_cast<float>(summary["test_accuracy"].number()));
  CHECK(s.at("epoch_loss") == static_cast<float>(summary["test_loss"].number()));
  MESSAGE("test/epoch_accuracy " << s.at("epoch_accuracy") << " test/epoch_loss " << s.at("epoch_loss"));
  std::filesystem::remove_all(tmp);
}

TEST_CASE("events: hparams session start and experiment decode as TensorBoard's HParamsPluginData") {
  const std::string dir = TempDir("hparams");
  REQUIRE(events::WriteHParamsExperiment(dir, {{"optimizer.learning_rate", {0.1, 0.01}},
                                               {"optimizer.type", {std::string("sgd"), std::string("adam")}},
                                               {"train.shuffle", {true, false}}})
              .ok());
  REQUIRE(events::WriteHParamsSessionStart(dir + "/trial-1", {{"optimizer.learning_rate", 0.1},
                                                              {"optimizer.type", std::string("sgd")},
                                                              {"train.shuffle", true}})
              .ok());
  REQUIRE(events::WriteHParamsSessionEnd(dir + "/trial-1", true).ok());

  auto plugin_data = [](const tensorflow::Event& e, const std::string& tag) {
    REQUIRE(e.summary().value_size() == 1);
    const auto& v = e.summary().value(0);
    CHECK(v.tag() == tag);
    CHECK(v.metadata().plugin_data().plugin_name() == "hparams");
    CHECK(v.tensor().dtype() == tensorflow::DT_FLOAT);  // TensorBoard's NULL_TENSOR: float, shape [0]
    CHECK(v.tensor().tensor_shape().dim_size() == 1);
    tensorboard::hparams::HParamsPluginData data;
    REQUIRE(data.ParseFromString(v.metadata().plugin_data().content()));
    CHECK(data.version() == 0);
    return data;
  };

  const auto exp_events = EventsIn(dir);
  REQUIRE(exp_events.size() == 2);
  const auto ex = plugin_data(exp_events[1], "_hparams_/experiment");
  REQUIRE(ex.has_experiment());
  REQUIRE(ex.experiment().hparam_infos_size() == 3);
  const auto& lr = ex.experiment().hparam_infos(0);
  CHECK(lr.name() == "optimizer.learning_rate");
  CHECK(lr.type() == tensorboard::hparams::DATA_TYPE_FLOAT64);
  REQUIRE(lr.domain_discrete().values_size() == 2);
  CHECK(lr.domain_discrete().values(1).number_value() == 0.01);
  CHECK(ex.experiment().hparam_infos(1).type() == tensorboard::hparams::DATA_TYPE_STRING);
  CHECK(ex.experiment().hparam_infos(1).domain_discrete().values(1).string_value() == "adam");
  CHECK(ex.experiment().hparam_infos(2).type() == tensorboard::hparams::DATA_TYPE_BOOL);
  REQUIRE(ex.experiment().metric_infos_size() == 4);
  CHECK(ex.experiment().metric_infos(0).name().group() == "validation");
  CHECK(ex.experiment().metric_infos(0).name().tag() == "epoch_accuracy");
  CHECK(ex.experiment().metric_infos(0).dataset_type() == tensorboard::hparams::DATASET_VALIDATION);

  const auto files = events::ListEventFiles(dir + "/trial-1");
  REQUIRE(files.size() == 2);
  std::vector<tensorflow::Event> start, end;
  REQUIRE(events::ReadEventFile(files[0], &start).ok());
  REQUIRE(events::ReadEventFile(files[1], &end).ok());
  REQUIRE(start.size() == 2);
  const auto ss = plugin_data(start[1], "_hparams_/session_start_info");
  REQUIRE(ss.has_session_start_info());
  const auto& hp = ss.session_start_info().hparams();
  CHECK(hp.at("optimizer.learning_rate").number_value() == 0.1);
  CHECK(hp.at("optimizer.type").string_value() == "sgd");
  CHECK(hp.at("train.shuffle").bool_value() == true);
  CHECK(ss.session_start_info().start_time_secs() > 1.6e9);
  REQUIRE(end.size() == 2);
  const auto se = plugin_data(end[1], "_hparams_/session_end_info");
  CHECK(se.session_end_info().status() == tensorboard::hparams::STATUS_SUCCESS);
  std::filesystem::remove_all(dir);
}

TEST_CASE("events: a resumed run marks the restart so TensorBoard drops the replaced steps") {
  const std::string tmp = TempDir("events-resume");
  std::vector<std::string> args = {"run", "configs/fashion_mnist.yaml", "train.epochs=2", "dataset.train.count=1000",
                                   "dataset.validation.count=500", "dataset.test.count=500", "train.checkpoint_every=1",
                                   "--stages", "load,build,train,evaluate"};
  auto first = args;
  first.insert(first.end(), {"--run-dir", tmp + "/run"});
  auto r = RunPipeline(first);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  auto again = args;
  again[2] = "train.epochs=3";
  again.insert(again.end(), {"--resume", tmp + "/run"});
  r = RunPipeline(again);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  const auto files = events::ListEventFiles(tmp + "/run/train");
  REQUIRE(files.size() == 2);
  std::vector<tensorflow::Event> evs;
  REQUIRE(events::ReadEventFile(files[1], &evs).ok());
  REQUIRE(evs.size() == 3);  // file_version, SessionLog START at step 3, epoch 3
  CHECK(evs[1].session_log().status() == tensorflow::SessionLog::START);
  CHECK(evs[1].step() == 3);
  CHECK(evs[2].step() == 3);
  CHECK(evs[2].summary().value(0).tag() == "epoch_loss");
  std::filesystem::remove_all(tmp);
}
