// LoadDataset on the real files (Fashion-MNIST from the Debian package, the
// shared MNIST t10k pair) and on small synthetic sets; expectations come from
// independent reads with zlib and from known facts about the datasets.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using pipeline::Dataset;
using pipeline::DatasetConfig;
using pipeline::Status;

namespace {

const char* kFashion = "/usr/share/datasets/fashion-mnist";
std::string Mnist() { return pipeline::test::Fixture("mnist"); }

// The suite's scoped directory, checked as it is made.
struct TempDir : pipeline::test::ScopedTempDir {
  TempDir() : ScopedTempDir("data_load") { REQUIRE(!path.empty()); }
};

// Whole decompressed file via zlib's gz* API (independent of data/).
std::vector<uint8_t> Gunzip(const std::string& path) {
  std::vector<uint8_t> out;
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  return out;
}

void Write(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

std::vector<uint8_t> Idx(uint32_t magic, std::vector<uint32_t> dims, std::vector<uint8_t> body) {
  std::vector<uint8_t> b;
  for (uint32_t v : std::vector<uint32_t>{magic}) dims.insert(dims.begin(), v);
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

DatasetConfig T10kOnly(const std::string& path) {
  DatasetConfig c;
  c.name = "mnist";
  c.path = path;
  c.download = false;
  c.train = {"t10k", 0, 8000};
  c.validation = {"t10k", 8000, 0};
  c.test = {"t10k", 8000, -1};
  return c;
}

bool Has(const Status& st, const std::string& s) { return st.message().find(s) != std::string::npos; }

}  // namespace

TEST_CASE("data: Fashion-MNIST default splits from the Debian package") {
  DatasetConfig c;
  c.name = "fashion_mnist";
  c.path = kFashion;
  c.download = false;
  c.scale = 0.5;
  Dataset d;
  Status st = pipeline::LoadDataset(c, &d);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(d.train.count == 55000);
  CHECK(d.validation.count == 5000);
  CHECK(d.test.count == 10000);
  for (const auto* s : {&d.train, &d.validation, &d.test}) {
    CHECK(s->features == 784);
    CHECK(s->images.size() == size_t(s->count) * 784);
    CHECK(s->labels.size() == size_t(s->count));
  }
  CHECK(d.scale == 0.5f);
  CHECK(d.num_classes == 10);
  CHECK(d.train.source == std::string(kFashion) + "/train-images-idx3-ubyte.gz [0, 55000)");
  CHECK(d.validation.source == std::string(kFashion) + "/train-images-idx3-ubyte.gz [55000, 60000)");
  CHECK(d.test.source == std::string(kFashion) + "/t10k-images-idx3-ubyte.gz [0, 10000)");

  // Known: the first training labels are ankle boot, T-shirt, T-shirt, dress, T-shirt.
  CHECK(std::vector<uint8_t>(d.train.labels.begin(), d.train.labels.begin() + 5) ==
        std::vector<uint8_t>{9, 0, 0, 3, 0});
  // Independent read of the raw files.
  std::vector<uint8_t> labels = Gunzip(std::string(kFashion) + "/train-labels-idx1-ubyte.gz");
  REQUIRE(labels.size() == 60008);
  CHECK(labels[8] == 9);
  CHECK(std::equal(d.train.labels.begin(), d.train.labels.end(), labels.begin() + 8));
  CHECK(std::equal(d.validation.labels.begin(), d.validation.labels.end(), labels.begin() + 8 + 55000));
  std::vector<uint8_t> images = Gunzip(std::string(kFashion) + "/train-images-idx3-ubyte.gz");
  REQUIRE(images.size() == 47040016);
  CHECK(std::equal(d.train.images.begin(), d.train.images.end(), images.begin() + 16));
  CHECK(std::equal(d.validation.images.begin(), d.validation.images.end(), images.begin() + 16 + 55000 * 784));
  // Hand-checked: image 0's first row is blank, and it has ink somewhere.
  CHECK(d.train.images[0] == 0);
  CHECK(d.train.images[27] == 0);
  int ink = 0;
  for (int i = 0; i < 784; ++i) ink += d.train.images[i] > 0;
  CHECK(ink > 100);
  std::vector<uint8_t> test_labels = Gunzip(std::string(kFashion) + "/t10k-labels-idx1-ubyte.gz");
  CHECK(std::equal(d.test.labels.begin(), d.test.labels.end(), test_labels.begin() + 8));
}

TEST_CASE("data: MNIST t10k splits carried in tests/data") {
  DatasetConfig c = T10kOnly(Mnist());
  Dataset d;
  Status st = pipeline::LoadDataset(c, &d);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(d.train.count == 8000);
  CHECK(d.validation.count == 0);
  CHECK(d.validation.images.empty());
  CHECK(d.validation.features == 784);
  CHECK(d.validation.source == "(empty)");
  CHECK(d.test.count == 2000);
  // Known: the MNIST test set starts 7 2 1 0 4 1 4 9 5 9.
  CHECK(std::vector<uint8_t>(d.train.labels.begin(), d.train.labels.begin() + 10) ==
        std::vector<uint8_t>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9});
  std::vector<uint8_t> images = Gunzip(Mnist() + "/t10k-images-idx3-ubyte.gz");
  REQUIRE(images.size() == 7840016);
  CHECK(std::equal(d.test.images.begin(), d.test.images.end(), images.begin() + 16 + 8000 * 784));
  CHECK(d.train.images[0] == 0);  // corner pixel of the first "7"
}

TEST_CASE("data: split ranges outside the file are InvalidArgument naming the key") {
  DatasetConfig c = T10kOnly(Mnist());
  c.train = {"t10k", 5000, 8000};
  Dataset d;
  Status st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() == "dataset.train: start 5000 + count 8000 exceeds the 10000 examples in " + Mnist() +
                            "/t10k-images-idx3-ubyte.gz");
  c = T10kOnly(Mnist());
  c.test = {"t10k", 10001, -1};
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsInvalidArgument());
  CHECK(Has(st, "dataset.test: start 10001 is beyond the 10000 examples"));
  c = T10kOnly(Mnist());
  c.validation = {"t10k", -1, 5};
  CHECK(pipeline::LoadDataset(c, &d).IsInvalidArgument());
  c = T10kOnly(Mnist());
  c.train = {"../t10k", 0, 5};
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsInvalidArgument());
  CHECK(Has(st, "dataset.train.file"));
  c = T10kOnly(Mnist());
  c.num_classes = 0;
  CHECK(pipeline::LoadDataset(c, &d).IsInvalidArgument());
  c = T10kOnly(Mnist());
  c.num_classes = 5;  // MNIST labels go up to 9
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "not below num_classes 5"));
  CHECK(Has(st, "of the decompressed stream"));
}

TEST_CASE("data: missing files without download say what is needed and where") {
  TempDir dir;
  DatasetConfig c = T10kOnly(dir.path.string());
  Dataset d;
  Status st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsNotFound());
  const std::string where = dir.path.string() + "/";
  CHECK(Has(st, "missing dataset files in " + where + ": t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"));
  CHECK(Has(st, "dataset.download is false"));
  CHECK(Has(st, "into " + where + " or set dataset.path"));
  CHECK(!Has(st, "train-"));  // only the referenced files

  // Name "idx" has no mirrors even with download on.
  c.name = "idx";
  c.download = true;
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsNotFound());
  CHECK(Has(st, "no download mirrors"));
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("data: synthetic idx set: counts / label range / plain beats .gz") {
  TempDir dir;
  auto images = Idx(0x803, {4, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto labels = Idx(0x801, {4}, {0, 1, 2, 1});
  Write(dir / "a-images-idx3-ubyte", images);
  Write(dir / "a-labels-idx1-ubyte", labels);
  DatasetConfig c;
  c.name = "idx";
  c.path = dir.path.string();
  c.num_classes = 3;
  c.train = {"a", 1, 2};
  c.validation = {"a", 3, -1};
  c.test = {"a", 0, 1};
  Dataset d;
  Status st = pipeline::LoadDataset(c, &d);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(d.train.features == 2);
  CHECK(d.train.images == std::vector<uint8_t>{3, 4, 5, 6});
  CHECK(d.train.labels == std::vector<uint8_t>{1, 2});
  CHECK(d.validation.images == std::vector<uint8_t>{7, 8});
  CHECK(d.test.labels == std::vector<uint8_t>{0});
  CHECK(d.num_classes == 3);

  // Image and label counts that differ.
  Write(dir / "a-labels-idx1-ubyte", Idx(0x801, {3}, {0, 1, 2}));
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsCorruption());
  CHECK(Has(st, dir / "a-images-idx3-ubyte has 4 images but " + dir / "a-labels-idx1-ubyte has 3 labels"));

  // A label >= num_classes, named by example and offset.
  Write(dir / "a-labels-idx1-ubyte", Idx(0x801, {4}, {0, 1, 2, 3}));
  st = pipeline::LoadDataset(c, &d);
  CHECK(st.IsCorruption());
  CHECK(Has(st, dir / "a-labels-idx1-ubyte: label 3 of example 3 at byte offset 11 is not below num_classes 3"));

  // The output is untouched on failure.
  CHECK(d.train.labels == std::vector<uint8_t>{1, 2});
}
