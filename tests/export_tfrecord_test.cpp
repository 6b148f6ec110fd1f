// TFRecord framing (hand-computed CRCs) and the warmup requests file.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/files.h"
#include "proto/serving_prediction_log.pb.h"
#include "export/export.h"
#include "tests/support/export_testing.h"
#include "tfformat/tfrecord.h"

using namespace pipeline;
using namespace pipeline::export_testing;

namespace {
std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}
}  // namespace

TEST_CASE("export: tfrecord framing matches hand-computed CRCs") {
  // crc32c(8 zero bytes) = 0x8c28b28a, masked 0x07980329; crc32c("") = 0, masked 0xa282ead8.
  CHECK(Hex(tfrecord::Encode({""})) == "000000000000000029039807d8ea82a2");
  // length 5: crc32c = 0xe4094dc0, masked 0x3e04b2ea; crc32c("hello") = 0x9a71bb4c, masked 0x191c1fbb.
  CHECK(Hex(tfrecord::Encode({"hello"})) == "0500000000000000eab2043e68656c6c6fbb1f1c19");

  const std::vector<std::string> recs = {"hello", "", std::string(1000, 'z'), std::string("\0\1\2", 3)};
  const std::string enc = tfrecord::Encode(recs);
  std::vector<std::string> dec;
  REQUIRE(tfrecord::Decode(enc, &dec).ok());
  CHECK(dec == recs);
  // Any flipped byte or truncation is detected.
  for (size_t i = 0; i < 40; ++i) {
    std::string bad = enc;
    bad[i] ^= 0x20;
    CHECK(tfrecord::Decode(bad, &dec).IsCorruption());
  }
  CHECK(tfrecord::Decode(enc.substr(0, enc.size() - 1), &dec).IsCorruption());

  export_testing::ScratchDir dir;
  tfrecord::Writer w;
  REQUIRE(w.Open(dir / "events").ok());
  REQUIRE(w.Write("a").ok());
  REQUIRE(w.Write("bc").ok());
  REQUIRE(w.Close().ok());
  tfrecord::Writer w2;
  REQUIRE(w2.Open(dir / "events", /*append=*/true).ok());
  REQUIRE(w2.Write("d").ok());
  REQUIRE(w2.Close().ok());
  std::string file;
  REQUIRE(ReadInputFile(dir / "events", input::kTFRecordFile, &file).ok());
  REQUIRE(tfrecord::Decode(file, &dec).ok());
  CHECK(dec == std::vector<std::string>{"a", "bc", "d"});
}

TEST_CASE("export: warmup writes one valid PredictionLog per signature") {
  ScratchDir dir;
  auto m = MakeModel({784, 16, 10}, dir / "m");
  m->request.options.warmup = true;
  ExportSignature extra{"third", "classify"};
  extra.top_k = 3;
  m->request.options.signatures.push_back(extra);
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  std::string file;
  REQUIRE(ReadInputFile(r.version_dir + "/assets.extra/tf_serving_warmup_requests", input::kTFRecordFile, &file).ok());
  std::vector<std::string> recs;
  REQUIRE(tfrecord::Decode(file, &recs).ok());
  REQUIRE(recs.size() == 3);

  tensorflow::serving::PredictionLog log;
  REQUIRE(log.ParseFromString(recs[0]));
  REQUIRE(log.has_predict_log());
  const auto& pr = log.predict_log().request();
  CHECK(pr.model_spec().signature_name() == "predict_images");
  REQUIRE(pr.inputs().count("inputs") == 1);
  const auto& t = pr.inputs().at("inputs");
  CHECK(t.dtype() == tensorflow::DT_FLOAT);
  REQUIRE(t.tensor_shape().dim_size() == 2);
  CHECK(t.tensor_shape().dim(0).size() == 1);
  CHECK(t.tensor_shape().dim(1).size() == 784);
  CHECK(t.tensor_content() == std::string(784 * 4, '\0'));

  for (int i : {1, 2}) {
    REQUIRE(log.ParseFromString(recs[i]));
    REQUIRE(log.has_classify_log());
    const auto& cr = log.classify_log().request();
    CHECK(cr.model_spec().signature_name() == (i == 1 ? "serving_default" : "third"));
    REQUIRE(cr.input().example_list().examples_size() == 1);
    const auto& f = cr.input().example_list().examples(0).features().feature();
    REQUIRE(f.count("x") == 1);
    CHECK(f.at("x").float_list().value_size() == 784);
  }
}
