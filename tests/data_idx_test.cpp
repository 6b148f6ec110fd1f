// IDX reading: every corruption class, on small files written here (plain and
// gzip via zlib), with the messages naming the file and the byte offset.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/gzip_file.h"
#include "data/idx.h"
#include "data/md5.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using pipeline::IdxHeader;
using pipeline::IdxKind;
using pipeline::Status;

namespace {

// The suite's scoped directory, checked as it is made.
struct TempDir : pipeline::test::ScopedTempDir {
  TempDir() : ScopedTempDir("data_idx") { REQUIRE(!path.empty()); }
};

using Bytes = std::vector<uint8_t>;

void Put32(Bytes* b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b->push_back(uint8_t(v >> s));
}

// An images file: count x rows x cols, pixel (i, j) = (i * 7 + j) & 0xff.
Bytes Images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t magic = 0x00000803) {
  Bytes b;
  Put32(&b, magic);
  Put32(&b, count);
  Put32(&b, rows);
  Put32(&b, cols);
  for (uint32_t i = 0; i < count; ++i)
    for (uint32_t j = 0; j < rows * cols; ++j) b.push_back(uint8_t(i * 7 + j));
  return b;
}

Bytes Labels(const Bytes& values, uint32_t count_in_header) {
  Bytes b;
  Put32(&b, 0x00000801);
  Put32(&b, count_in_header);
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

Bytes Gzip(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = const_cast<Bytes::value_type*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void Write(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  REQUIRE(f.good());
}

Status Read(const std::string& path, IdxKind kind, Bytes* items = nullptr, int64_t label_limit = 0) {
  Bytes scratch;
  return pipeline::ReadIdxFile(path, kind, nullptr, items ? items : &scratch, label_limit);
}

bool Has(const Status& st, const std::string& s) { return st.message().find(s) != std::string::npos; }

}  // namespace

TEST_CASE("data: md5 of known strings and of the MNIST files in tests/data") {
  CHECK(pipeline::Md5Hex("", 0) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(pipeline::Md5Hex("abc", 3) == "900150983cd24fb0d6963f7d28e17f72");
  std::string hex;
  REQUIRE(pipeline::Md5OfFile(pipeline::test::Fixture("mnist/t10k-labels-idx1-ubyte.gz"), &hex).ok());
  CHECK(hex == "ec29112dd5afa0611ce80d1b7f02629c");
  CHECK(pipeline::Md5OfFile("/nonexistent/x", &hex).IsNotFound());
}

TEST_CASE("data: idx plain and gzip files read the same items - gzip is detected by magic / not name") {
  TempDir dir;
  Bytes img = Images(3, 2, 2);
  Write(dir / "plain-images-idx3-ubyte", img);
  Write(dir / "zipped-images-idx3-ubyte.gz", Gzip(img));
  Write(dir / "sneaky-images-idx3-ubyte", Gzip(img));  // gzip without the .gz name
  for (const char* name : {"plain-images-idx3-ubyte", "zipped-images-idx3-ubyte.gz", "sneaky-images-idx3-ubyte"}) {
    CAPTURE(name);
    IdxHeader h;
    Bytes items;
    Status st = pipeline::ReadIdxFile(dir / name, IdxKind::kImages, &h, &items);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    CHECK(h.count == 3);
    CHECK(h.item_size == 4);
    CHECK(h.header_size == 16);
    CHECK(items == Bytes(img.begin() + 16, img.end()));
  }
  // Concatenated gzip members are one stream.
  Bytes two = Gzip(Bytes(img.begin(), img.begin() + 10));
  Bytes rest = Gzip(Bytes(img.begin() + 10, img.end()));
  two.insert(two.end(), rest.begin(), rest.end());
  Write(dir / "multi-images-idx3-ubyte.gz", two);
  Bytes items;
  Status st = Read(dir / "multi-images-idx3-ubyte.gz", IdxKind::kImages, &items);
  CHECK_MESSAGE(st.ok(), st.ToString());
  CHECK(items == Bytes(img.begin() + 16, img.end()));
}

TEST_CASE("data: FindIdxFile prefers the plain file and falls back to .gz") {
  TempDir dir;
  std::string path;
  CHECK(pipeline::FindIdxFile(dir.path.string(), "train", IdxKind::kImages, &path).IsNotFound());
  Write(dir / "train-images-idx3-ubyte.gz", Gzip(Images(1, 1, 1)));
  REQUIRE(pipeline::FindIdxFile(dir.path.string(), "train", IdxKind::kImages, &path).ok());
  CHECK(path == dir / "train-images-idx3-ubyte.gz");
  Write(dir / "train-images-idx3-ubyte", Images(1, 1, 1));
  REQUIRE(pipeline::FindIdxFile(dir.path.string(), "train", IdxKind::kImages, &path).ok());
  CHECK(path == dir / "train-images-idx3-ubyte");
}

TEST_CASE("data: idx missing and empty files") {
  TempDir dir;
  std::string missing = dir / "none-images-idx3-ubyte";
  Status st = Read(missing, IdxKind::kImages);
  CHECK(st.IsNotFound());
  CHECK(Has(st, missing));

  std::string empty = dir / "empty-images-idx3-ubyte";
  Write(empty, {});
  st = Read(empty, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, empty));
  CHECK(Has(st, "empty file (0 bytes)"));
}

TEST_CASE("data: idx .gz name on a file that is not gzip") {
  TempDir dir;
  std::string path = dir / "x-images-idx3-ubyte.gz";
  Write(path, Images(2, 2, 2));
  Status st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "not gzip"));
  CHECK(Has(st, "byte offset 0 holds 00 00"));
  Write(path, Bytes{0x1f});  // one byte: cannot be gzip
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "not gzip"));
}

TEST_CASE("data: idx truncated gzip names the compressed and decompressed offsets") {
  TempDir dir;
  Bytes img = Images(50, 8, 8);
  Bytes gz = Gzip(img);
  std::string path = dir / "t-images-idx3-ubyte.gz";
  Write(path, Bytes(gz.begin(), gz.begin() + gz.size() / 2));
  Status st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "truncated gzip stream"));
  CHECK(Has(st, "compressed data ends at byte offset " + std::to_string(gz.size() / 2)));
  CHECK(Has(st, "of the decompressed stream"));

  // Trailer cut off: all content there, the CRC/size check cannot happen.
  Write(path, Bytes(gz.begin(), gz.end() - 4));
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "truncated gzip stream"));

  // A flipped byte in the deflate data or the CRC is corruption, not a crash.
  Bytes bad = gz;
  bad[bad.size() - 6] ^= 0xff;  // inside the CRC32
  Write(path, bad);
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "compressed byte offset"));

  // Garbage after the stream.
  bad = gz;
  bad.push_back(0);
  bad.push_back(0);
  Write(path, bad);
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "trailing garbage"));
  CHECK(Has(st, "compressed byte offset " + std::to_string(gz.size())));
}

TEST_CASE("data: idx wrong magic / element type and dimension count") {
  TempDir dir;
  std::string path = dir / "m-images-idx3-ubyte";
  Write(path, Images(1, 2, 2, 0x12340803));
  Status st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "wrong IDX magic 0x12340803 at byte offset 0"));
  CHECK(Has(st, "expected 0x00000803"));

  Write(path, Images(1, 2, 2, 0x00000d03));  // float elements
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "element type 0x0d (float) at byte offset 2"));

  // A labels file where images are expected (and the other way round).
  std::string labels = dir / "m-labels-idx1-ubyte";
  Write(labels, Labels({1, 2}, 2));
  st = Read(labels, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "wrong IDX magic 0x00000801 at byte offset 0"));
  st = Read(path = dir / "ok-images-idx3-ubyte", IdxKind::kLabels);
  CHECK(st.IsNotFound());
  Write(path, Images(1, 2, 2));
  st = Read(path, IdxKind::kLabels);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "wrong IDX magic 0x00000803 at byte offset 0"));
  CHECK(Has(st, "expected 0x00000801"));

  // Same through gzip: the offset is in the decompressed stream.
  std::string gz = dir / "g-images-idx3-ubyte.gz";
  Write(gz, Gzip(Images(1, 2, 2, 0x00000b03)));
  st = Read(gz, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, gz));
  CHECK(Has(st, "element type 0x0b (short) at byte offset 2 of the decompressed stream"));
}

TEST_CASE("data: idx truncated header") {
  TempDir dir;
  std::string path = dir / "h-images-idx3-ubyte";
  Bytes img = Images(1, 2, 2);
  Write(path, Bytes(img.begin(), img.begin() + 3));
  Status st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, path));
  CHECK(Has(st, "truncated IDX header: the content ends at byte offset 3"));
  Write(path, Bytes(img.begin(), img.begin() + 10));
  st = Read(path, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "truncated IDX header: the content ends at byte offset 10"));
}

TEST_CASE("data: idx header dimensions that disagree with the file size") {
  TempDir dir;
  Bytes img = Images(5, 2, 2);
  Bytes short_img(img.begin(), img.end() - 4);  // 4 examples of data, header says 5
  std::string plain = dir / "s-images-idx3-ubyte";
  Write(plain, short_img);
  Status st = Read(plain, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, plain));
  CHECK(Has(st, "header at byte offset 4 declares 5 x 2 x 2 images (36 bytes including the header)"));
  CHECK(Has(st, "the file has 32 bytes"));

  std::string gz = dir / "s-images-idx3-ubyte.gz";
  Write(gz, Gzip(short_img));
  st = Read(gz, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, gz));
  CHECK(Has(st, "ends at byte offset 32 of the decompressed stream"));
  CHECK(Has(st, "declares 5 x 2 x 2 = 36 bytes"));

  Bytes long_img = img;
  long_img.push_back(1);
  long_img.push_back(2);
  Write(gz, Gzip(long_img));
  st = Read(gz, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "2 unexpected bytes after the 36 declared"));
  CHECK(Has(st, "starting at byte offset 36 of the decompressed stream"));

  // Empty images (0 rows).
  Write(plain, Images(3, 0, 5));
  st = Read(plain, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "declares empty items (3 x 0 x 5)"));

  // A huge header over a tiny gzip: an error, without allocating the claim.
  Bytes huge;
  Put32(&huge, 0x803);
  Put32(&huge, 0xffffffff);
  Put32(&huge, 0xffff);
  Put32(&huge, 0xffff);
  Write(gz, Gzip(huge));
  st = Read(gz, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "implausibly"));
  huge.resize(4);
  Put32(&huge, 0x00ffffff);
  Put32(&huge, 28);
  Put32(&huge, 28);
  huge.resize(huge.size() + 100, 0);
  Write(gz, Gzip(huge));
  st = Read(gz, IdxKind::kImages);
  CHECK(st.IsCorruption());
  CHECK(Has(st, "ends at byte offset 116 of the decompressed stream"));
}

TEST_CASE("data: idx label values not below num_classes name the example and offset") {
  TempDir dir;
  std::string plain = dir / "l-labels-idx1-ubyte";
  Write(plain, Labels({0, 9, 3, 12, 1}, 5));
  Bytes items;
  Status st = Read(plain, IdxKind::kLabels, &items, 10);
  CHECK(st.IsCorruption());
  CHECK(Has(st, plain));
  CHECK(Has(st, "label 12 of example 3 at byte offset 11 is not below num_classes 10"));
  CHECK(Read(plain, IdxKind::kLabels, &items, 13).ok());
  CHECK(items == Bytes{0, 9, 3, 12, 1});

  std::string gz = dir / "l-labels-idx1-ubyte.gz";
  Write(gz, Gzip(Labels({0, 9, 10}, 3)));
  st = Read(gz, IdxKind::kLabels, &items, 10);
  CHECK(st.IsCorruption());
  CHECK(Has(st, gz));
  CHECK(Has(st, "label 10 of example 2 at byte offset 10 of the decompressed stream"));
}

TEST_CASE("data: idx reader ranges copy only the requested items") {
  TempDir dir;
  Bytes img = Images(10, 3, 1);
  std::string path = dir / "r-images-idx3-ubyte.gz";
  Write(path, Gzip(img));
  std::unique_ptr<pipeline::IdxReader> reader;
  REQUIRE(pipeline::IdxReader::Open(path, IdxKind::kImages, &reader).ok());
  Bytes a, b, c;
  Status st = reader->ReadRanges({{2, 3, &a}, {9, 1, &b}, {0, 0, &c}});
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(a == Bytes(img.begin() + 16 + 6, img.begin() + 16 + 15));
  CHECK(b == Bytes(img.end() - 3, img.end()));
  CHECK(c.empty());
  REQUIRE(pipeline::IdxReader::Open(path, IdxKind::kImages, &reader).ok());
  CHECK(reader->ReadRanges({{8, 3, &a}}).IsInvalidArgument());
}

TEST_CASE("data: idx never crashes on damaged input (every truncation / random bytes / random flips)") {
  TempDir dir;
  Bytes img = Images(20, 4, 4);
  Bytes gz = Gzip(img);
  std::string gz_path = dir / "f-images-idx3-ubyte.gz";
  std::string plain_path = dir / "f-images-idx3-ubyte";
  for (size_t n = 0; n < gz.size(); ++n) {
    Write(gz_path, Bytes(gz.begin(), gz.begin() + n));
    CHECK(!Read(gz_path, IdxKind::kImages).ok());
  }
  for (size_t n = 0; n < img.size(); ++n) {
    Write(plain_path, Bytes(img.begin(), img.begin() + n));
    CHECK(!Read(plain_path, IdxKind::kImages).ok());
  }
  // A read of damaged bytes either fails as Corruption naming the file, or
  // succeeds only with what an intact file holds: the gzip CRC covers every
  // byte of the content, and a plain file's header must still be the images
  // header (every header field is checked against the size), its items the
  // bytes after it.
  const Bytes header(img.begin(), img.begin() + 16);
  int ok_reads = 0, failed_reads = 0;
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    Bytes b = round % 2 ? gz : img;
    int flips = 1 + int(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] ^= uint8_t(1 + rng() % 255);
    const std::string path = round % 3 ? gz_path : plain_path;
    const IdxKind kind = round % 5 ? IdxKind::kImages : IdxKind::kLabels;
    Write(path, b);
    Bytes items;
    // With a label limit of 10 no images file passes: item 0's pixels run 0..15.
    Status st = Read(path, kind, &items, 10);
    CHECK_FALSE(st.ok());
    CHECK_MESSAGE(st.IsCorruption(), st.ToString());
    CHECK_MESSAGE(Has(st, path), st.ToString());
    st = Read(path, kind, &items);
    if (st.ok()) {
      ++ok_reads;
      CHECK(kind == IdxKind::kImages);  // an images file never reads as labels
      const Bytes content = round % 2 ? img : b;  // what the reader saw once decompressed
      CHECK(Bytes(content.begin(), content.begin() + 16) == header);
      CHECK(items == Bytes(content.begin() + 16, content.end()));
    } else {
      ++failed_reads;
      CHECK_MESSAGE(st.IsCorruption(), st.ToString());
      CHECK_MESSAGE(Has(st, path), st.ToString());
    }
    Bytes noise(rng() % 64);
    for (auto& x : noise) x = uint8_t(rng());
    Write(plain_path, noise);
    st = Read(plain_path, IdxKind::kImages, &items);
    CHECK_FALSE(st.ok());  // random bytes: a truncated header or a wrong magic number
    CHECK_MESSAGE(st.IsCorruption(), st.ToString());
    CHECK_MESSAGE(Has(st, plain_path), st.ToString());
  }
  // Both outcomes occurred, so both branches above were checked.
  CHECK(ok_reads > 0);
  CHECK(failed_reads > 0);
}
