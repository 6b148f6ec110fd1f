#include <doctest/doctest.h>

#include <google/protobuf/unknown_field_set.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/files.h"
#include "tfformat/bundle_reader.h"
#include "tfformat/bundle_writer.h"
#include "tfformat/table_builder.h"
#include "tfformat/table_reader.h"
#include "tests/support/fixtures.h"

using namespace pipeline;
namespace fs = std::filesystem;

namespace {

std::string Golden() { return pipeline::test::Fixture("golden"); }

std::string Prefix(const std::string& model) { return Golden() + "/" + model + "/variables/variables"; }

std::string Slurp(const std::string& path) {
  std::string s;
  REQUIRE(ReadInputFile(path, input::kBundleData, &s).ok());
  return s;
}

void Spit(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

// A fresh directory under /tmp, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::mt19937_64 rng(std::random_device{}());
    path = fs::temp_directory_path() / ("bundle_test_" + std::to_string(rng()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string prefix() const { return (path / "variables").string(); }
};

// Copies a golden bundle into `dir` (writable) and returns the new prefix.
std::string CopyGolden(const std::string& model, const TempDir& dir) {
  Spit(BundleIndexPath(dir.prefix()), Slurp(BundleIndexPath(Prefix(model))));
  Spit(BundleDataPath(dir.prefix()), Slurp(BundleDataPath(Prefix(model))));
  return dir.prefix();
}

BundleTensors ReadOk(const std::string& prefix) {
  BundleTensors t;
  const Status s = ReadBundle(prefix, &t);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return t;
}

}  // namespace

TEST_CASE("bundle: golden checkpoint values") {
  SUBCASE("half_plus_two (TF1, snappy index)") {
    auto t = ReadOk(Prefix("saved_model_half_plus_two_cpu/00000123"));
    CHECK(t.size() == 5);
    CHECK(t.at("a").FloatAt(0) == 0.5f);
    CHECK(t.at("b").FloatAt(0) == 2.0f);
    CHECK(t.at("c").FloatAt(0) == 3.0f);
    CHECK(t.at("a2").FloatAt(0) == 0.5f);
    CHECK(t.at("c2").FloatAt(0) == 3.0f);
    CHECK(t.at("a").shape.empty());
    CHECK(t.at("a").dtype == tensorflow::DT_FLOAT);
  }
  SUBCASE("half_plus_three") {
    auto t = ReadOk(Prefix("saved_model_half_plus_three/00000123"));
    CHECK(t.at("a").FloatAt(0) == 0.5f);
    CHECK(t.at("b").FloatAt(0) == 3.0f);
    CHECK(t.at("c").FloatAt(0) == 3.0f);
  }
  SUBCASE("counter") {
    auto t = ReadOk(Prefix("saved_model_counter/00000123"));
    REQUIRE(t.size() == 1);
    CHECK(t.at("counter").FloatAt(0) == 0.0f);
  }
  SUBCASE("mnist") {
    auto t = ReadOk(Prefix("mnist_softmax_tfserving_tutorial/1"));
    REQUIRE(t.size() == 2);
    CHECK(t.at("Variable").shape == std::vector<int64_t>{784, 10});
    CHECK(t.at("Variable").bytes.size() == 784 * 10 * 4);
    CHECK(t.at("Variable_1").shape == std::vector<int64_t>{10});
    float sum = 0;
    for (int i = 0; i < 10; ++i) sum += t.at("Variable_1").FloatAt(i);
    CHECK(sum != 0.0f);  // trained biases
  }
  SUBCASE("mkl: resource variables incl. conv kernels") {
    auto t = ReadOk(Prefix("saved_model_half_plus_two_mkl/00000123"));
    CHECK(t.size() == 9);
    CHECK(t.at("conv2d/kernel").shape == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(t.at("conv2d/bias").shape == std::vector<int64_t>{1});
  }
  SUBCASE("tf2: object-based keys and the string object graph") {
    auto t = ReadOk(Prefix("saved_model_half_plus_two_tf2_cpu/00000123"));
    CHECK(t.size() == 4);
    CHECK(t.at("a/.ATTRIBUTES/VARIABLE_VALUE").FloatAt(0) == 0.5f);
    CHECK(t.at("b/.ATTRIBUTES/VARIABLE_VALUE").FloatAt(0) == 2.0f);
    CHECK(t.at("c/.ATTRIBUTES/VARIABLE_VALUE").FloatAt(0) == 3.0f);
    const auto& g = t.at("_CHECKPOINTABLE_OBJECT_GRAPH");
    CHECK(g.dtype == tensorflow::DT_STRING);
    CHECK(g.shape.empty());
    REQUIRE(g.strings.size() == 1);
    google::protobuf::UnknownFieldSet ufs;  // a serialized TrackableObjectGraph
    CHECK(ufs.ParseFromString(g.strings[0]));
    CHECK(g.strings[0].find("VARIABLE_VALUE") != std::string::npos);
  }
}

TEST_CASE("bundle: rewriting golden tensors reproduces TensorFlow's files byte for byte") {
  struct Case {
    std::string model;
    BundleWriteOptions options;
  };
  BundleWriteOptions snappy;
  snappy.index_compression = table::Compression::kSnappy;
  BundleWriteOptions tf2 = snappy;
  tf2.data_order = {"a/.ATTRIBUTES/VARIABLE_VALUE", "b/.ATTRIBUTES/VARIABLE_VALUE", "c/.ATTRIBUTES/VARIABLE_VALUE",
                    "_CHECKPOINTABLE_OBJECT_GRAPH"};
  const std::vector<Case> cases = {
      {"mnist_softmax_tfserving_tutorial/1", {}},
      {"saved_model_counter/00000123", {}},
      {"saved_model_half_plus_three/00000123", {}},
      {"saved_model_half_plus_two_mkl/00000123", {}},
      // These two TF versions wrote snappy-compressed index blocks; TF2 also
      // wrote the object graph tensor after the variables in the data file.
      {"saved_model_half_plus_two_cpu/00000123", snappy},
      {"saved_model_half_plus_two_tf2_cpu/00000123", tf2},
  };
  for (const Case& c : cases) {
    INFO(c.model);
    const auto tensors = ReadOk(Prefix(c.model));
    std::string index, data;
    REQUIRE(EncodeBundle(tensors, &index, &data, c.options).ok());
    CHECK((index == Slurp(BundleIndexPath(Prefix(c.model)))));
    CHECK((data == Slurp(BundleDataPath(Prefix(c.model)))));
  }
  // Default options on a snappy golden: same tensors, uncompressed index.
  const auto tensors = ReadOk(Prefix("saved_model_half_plus_two_cpu/00000123"));
  TempDir dir;
  REQUIRE(WriteBundle(dir.prefix(), tensors).ok());
  CHECK(Slurp(BundleDataPath(dir.prefix())) == Slurp(BundleDataPath(Prefix("saved_model_half_plus_two_cpu/00000123"))));
  CHECK(ReadOk(dir.prefix()) == tensors);
}

TEST_CASE("bundle: write/read round trip of assorted dtypes and shapes") {
  BundleTensors in;
  in["f"] = BundleTensor::Floats({2, 3}, {1, 2, 3, 4, 5, 6});
  in["scalar"] = BundleTensor::Floats({}, {42});
  in["empty"] = BundleTensor::Floats({0, 4}, {});
  in["s"] = BundleTensor::Strings({3}, {"", "hello", std::string(300, 'x')});
  in["s_empty"] = BundleTensor::Strings({0}, {});
  BundleTensor i64;
  i64.dtype = tensorflow::DT_INT64;
  i64.shape = {2};
  i64.bytes = std::string("\x01\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 16);
  in["step"] = i64;
  BundleTensor b;
  b.dtype = tensorflow::DT_BOOL;
  b.shape = {3};
  b.bytes = std::string("\x01\x00\x01", 3);
  in["mask"] = b;
  TempDir dir;
  REQUIRE(WriteBundle(dir.prefix(), in).ok());
  CHECK(ReadOk(dir.prefix()) == in);
  CHECK(!fs::exists(BundleIndexPath(dir.prefix()) + ".tempstate"));

  std::map<std::string, tensorflow::BundleEntryProto> entries;
  tensorflow::BundleHeaderProto header;
  REQUIRE(ReadBundleEntries(dir.prefix(), &entries, &header).ok());
  CHECK(header.num_shards() == 1);
  CHECK(header.version().producer() == 1);
  CHECK(entries.at("f").offset() == 0);  // key order: empty, f, mask, ...
  CHECK(entries.at("f").size() == 24);
  CHECK(entries.at("s_empty").size() == 4);  // just the length checksum
}

TEST_CASE("bundle: invalid input to the writer") {
  std::string index, data;
  BundleTensors t;
  t["x"] = BundleTensor::Floats({2}, {1});
  CHECK(EncodeBundle(t, &index, &data).IsInvalidArgument());
  t.clear();
  t[""] = BundleTensor::Floats({}, {1});
  CHECK(EncodeBundle(t, &index, &data).IsInvalidArgument());
  t.clear();
  t["s"] = BundleTensor::Strings({2}, {"a"});
  CHECK(EncodeBundle(t, &index, &data).IsInvalidArgument());
  t.clear();
  BundleTensor r;
  r.dtype = tensorflow::DT_RESOURCE;
  t["r"] = r;
  CHECK(EncodeBundle(t, &index, &data).IsInvalidArgument());
  t.clear();
  t["a"] = BundleTensor::Floats({}, {1});
  BundleWriteOptions o;
  o.data_order = {"b"};
  CHECK(EncodeBundle(t, &index, &data, o).IsInvalidArgument());
}

TEST_CASE("bundle: a flipped data byte is a checksum error naming the tensor and file") {
  for (const char* model : {"mnist_softmax_tfserving_tutorial/1", "saved_model_half_plus_two_tf2_cpu/00000123"}) {
    INFO(model);
    TempDir dir;
    const std::string prefix = CopyGolden(model, dir);
    std::map<std::string, tensorflow::BundleEntryProto> entries;
    REQUIRE(ReadBundleEntries(prefix, &entries).ok());
    const std::string data = Slurp(BundleDataPath(prefix));
    for (const auto& [key_binding, e] : entries) {
      const std::string& key = key_binding;  // clang 14: doctest's macros cannot capture a binding
      for (int64_t at : {e.offset(), e.offset() + e.size() / 2, e.offset() + e.size() - 1}) {
        std::string bad = data;
        bad[static_cast<size_t>(at)] ^= 0x01;
        Spit(BundleDataPath(prefix), bad);
        BundleTensors t;
        const Status s = ReadBundle(prefix, &t);
        INFO("key " << key << " byte " << at << ": " << s.ToString());
        CHECK(s.IsCorruption());
        CHECK(s.message().find("'" + key + "'") != std::string::npos);
        CHECK(s.message().find(BundleDataPath(prefix)) != std::string::npos);
      }
    }
  }
}

TEST_CASE("bundle: a flipped index byte is a corruption naming the block") {
  TempDir dir;
  const std::string prefix = CopyGolden("saved_model_counter/00000123", dir);
  const std::string index = Slurp(BundleIndexPath(prefix));
  const size_t footer_at = index.size() - table::kFooterLength;
  for (size_t i = 0; i < footer_at; ++i) {
    std::string bad = index;
    bad[i] ^= 0x40;
    Spit(BundleIndexPath(prefix), bad);
    BundleTensors t;
    const Status s = ReadBundle(prefix, &t);
    INFO("byte " << i << ": " << s.ToString());
    CHECK(s.IsCorruption());
    CHECK(s.message().find(BundleIndexPath(prefix)) != std::string::npos);
    CHECK(s.message().find("block at offset") != std::string::npos);
  }
}

TEST_CASE("bundle: missing / truncated and garbage files are errors") {
  TempDir dir;
  BundleTensors t;
  CHECK(ReadBundle(dir.prefix(), &t).IsNotFound());

  const std::string prefix = CopyGolden("saved_model_half_plus_two_tf2_cpu/00000123", dir);
  const std::string data = Slurp(BundleDataPath(prefix));
  const std::string index = Slurp(BundleIndexPath(prefix));
  for (size_t n = 0; n < data.size(); n += 7) {
    Spit(BundleDataPath(prefix), data.substr(0, n));
    CHECK(ReadBundle(prefix, &t).IsCorruption());
  }
  Spit(BundleDataPath(prefix), data);
  for (size_t n = 0; n < index.size(); ++n) {
    Spit(BundleIndexPath(prefix), index.substr(0, n));
    CHECK(ReadBundle(prefix, &t).IsCorruption());
  }
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    std::string junk(static_cast<size_t>(rng() % 400), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    Spit(BundleIndexPath(prefix), junk);
    CHECK(!ReadBundle(prefix, &t).ok());
  }
  Spit(BundleIndexPath(prefix), index);
  fs::remove(BundleDataPath(prefix));
  CHECK(ReadBundle(prefix, &t).IsNotFound());
}

TEST_CASE("bundle: entries that lie about their data are rejected / not trusted") {
  // Valid table, but entries pointing outside the data file / wrong sizes.
  TempDir dir;
  BundleTensors in;
  in["w"] = BundleTensor::Floats({4}, {1, 2, 3, 4});
  REQUIRE(WriteBundle(dir.prefix(), in).ok());
  table::Entries kv;
  REQUIRE(table::ReadTableFile(BundleIndexPath(dir.prefix()), &kv).ok());
  auto rewrite = [&](auto mutate) {
    tensorflow::BundleEntryProto e;
    REQUIRE(e.ParseFromString(kv[1].second));
    mutate(&e);
    table::Entries changed = kv;
    changed[1].second = e.SerializeAsString();
    std::string file;
    REQUIRE(table::BuildTable(changed, {}, &file).ok());
    Spit(BundleIndexPath(dir.prefix()), file);
    BundleTensors t;
    return ReadBundle(dir.prefix(), &t);
  };
  CHECK(rewrite([](auto* e) { e->set_offset(1000); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->set_size(12); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->set_offset(-1); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->mutable_shape()->mutable_dim(0)->set_size(-1); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->mutable_shape()->mutable_dim(0)->set_size(int64_t{1} << 62); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->set_shard_id(3); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->set_dtype(tensorflow::DT_STRING); }).IsCorruption());
  CHECK(rewrite([](auto* e) { e->set_dtype(tensorflow::DT_VARIANT); }).code() == Status::Code::kUnimplemented);
  CHECK(rewrite([](auto* e) { e->add_slices(); }).code() == Status::Code::kUnimplemented);
  CHECK(rewrite([](auto*) {}).ok());
}
