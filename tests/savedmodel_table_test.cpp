#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>

#include "common/files.h"
#include "tfformat/crc32c.h"
#include "tfformat/table_builder.h"
#include "tfformat/table_reader.h"
#include "tests/support/fixtures.h"

using namespace pipeline;
using namespace pipeline::table;

namespace {

std::string Golden() { return pipeline::test::Fixture("golden"); }

Entries MakeEntries(int n, size_t value_size) {
  Entries e;
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "key/%06d", i);
    e.emplace_back(key, std::string(value_size, static_cast<char>('a' + i % 26)));
  }
  return e;
}

std::string Build(const Entries& e, Options o = {}) {
  std::string out;
  REQUIRE(BuildTable(e, o, &out).ok());
  return out;
}

}  // namespace

TEST_CASE("table: empty table layout") {
  const std::string t = Build({});
  // metaindex (8 + 5) + index (8 + 5) + footer (48).
  CHECK(t.size() == 74);
  CHECK(DecodeFixed64(t.data() + t.size() - 8) == kTableMagic);
  Entries e;
  REQUIRE(ParseTable(t, "mem", &e).ok());
  CHECK(e.empty());
}

TEST_CASE("table: round trips / multi-block / restart points / snappy") {
  for (int n : {1, 2, 15, 16, 17, 100, 1000}) {
    INFO("n = " << n);
    const Entries e = MakeEntries(n, 7);
    Entries back;
    REQUIRE(ParseTable(Build(e), "mem", &back).ok());
    CHECK(back == e);
  }
  Options small;
  small.block_size = 1024;
  const Entries e = MakeEntries(500, 100);
  TableStats stats;
  Entries back;
  REQUIRE(ParseTable(Build(e, small), "mem", &back, &stats).ok());
  CHECK(back == e);
  CHECK(stats.data_blocks > 10);
  CHECK(stats.snappy_blocks == 0);

  Options snappy = small;
  snappy.compression = Compression::kSnappy;
  const std::string compressed = Build(e, snappy);
  REQUIRE(ParseTable(compressed, "mem", &back, &stats).ok());
  CHECK(back == e);
  CHECK(stats.snappy_blocks > 10);
  CHECK(compressed.size() < Build(e, small).size());

  // Default block size: 600 KB of data makes three blocks.
  REQUIRE(ParseTable(Build(MakeEntries(2000, 300)), "mem", &back, &stats).ok());
  CHECK(stats.data_blocks == 3);
}

TEST_CASE("table: keys must increase") {
  TableBuilder b;
  b.Add("b", "1");
  b.Add("a", "2");
  std::string out;
  CHECK(b.Finish(&out).IsInvalidArgument());
  TableBuilder dup;
  dup.Add("a", "1");
  dup.Add("a", "2");
  CHECK(dup.Finish(&out).IsInvalidArgument());
}

TEST_CASE("table: every golden checkpoint index parses - half_plus_two_cpu's is snappy") {
  for (const char* m : {"mnist_softmax_tfserving_tutorial/1", "saved_model_counter/00000123",
                        "saved_model_half_plus_three/00000123", "saved_model_half_plus_two_cpu/00000123",
                        "saved_model_half_plus_two_mkl/00000123", "saved_model_half_plus_two_tf2_cpu/00000123"}) {
    INFO(m);
    Entries e;
    TableStats stats;
    const std::string path = Golden() + "/" + m + "/variables/variables.index";
    REQUIRE(ReadTableFile(path, &e, &stats).ok());
    REQUIRE(!e.empty());
    CHECK(e.front().first.empty());  // bundle header entry
    CHECK(stats.data_blocks == 1);
    const bool snappy = std::string(m).find("half_plus_two_cpu") != std::string::npos ||
                        std::string(m).find("tf2") != std::string::npos;
    CHECK((stats.snappy_blocks > 0) == snappy);
  }
}

TEST_CASE("table: every flipped byte is detected or harmless - truncation and garbage are errors") {
  std::string golden;
  REQUIRE(ReadInputFile(Golden() + "/saved_model_half_plus_two_cpu/00000123/variables/variables.index", input::kBundleIndex, &golden)
              .ok());
  for (const std::string& file : {golden, Build(MakeEntries(40, 5))}) {
    Entries want;
    REQUIRE(ParseTable(file, "t.index", &want).ok());
    const size_t footer_at = file.size() - kFooterLength;
    for (size_t i = 0; i < file.size(); ++i) {
      std::string bad = file;
      bad[i] ^= 0x20;
      Entries got;
      const Status s = ParseTable(bad, "t.index", &got);
      if (s.ok()) {
        // Only the zero padding inside the footer is not covered by a checksum.
        CHECK(i >= footer_at);
        CHECK(got == want);
        continue;
      }
      INFO("flipped byte " << i << ": " << s.ToString());
      CHECK(s.IsCorruption());
      CHECK(s.message().find("t.index") != std::string::npos);
      if (i < footer_at) CHECK(s.message().find("block at offset") != std::string::npos);
    }
    for (size_t n = 0; n < file.size(); ++n) {
      Entries got;
      CHECK(ParseTable(file.substr(0, n), "t.index", &got).IsCorruption());
    }
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk(static_cast<size_t>(rng() % 300), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (junk.size() >= 8 && trial % 2 == 0) {  // make the magic right to get deeper
      std::string magic;
      PutFixed64(&magic, kTableMagic);
      junk.replace(junk.size() - 8, 8, magic);
    }
    Entries got;
    CHECK(!ParseTable(junk, "junk", &got).ok());
  }
}

TEST_CASE("table: a block whose CRC is recomputed still fails structural checks") {
  // Corrupt a data block's restart count but fix up its checksum: the reader
  // must still refuse it rather than read out of bounds.
  std::string t = Build(MakeEntries(3, 4));
  std::string_view footer(t.data() + t.size() - kFooterLength, kFooterLength);
  BlockHandle meta, index;
  REQUIRE(meta.DecodeFrom(&footer));
  REQUIRE(index.DecodeFrom(&footer));
  // The first data block starts at 0; its size is the metaindex offset - 5.
  const size_t size = meta.offset - kBlockTrailerSize;
  std::string patched;
  PutFixed32(&patched, 1000);
  t.replace(size - 4, 4, patched);
  const uint32_t crc = crc32c::Extend(crc32c::Value(t.data(), size), t.data() + size, 1);
  std::string c;
  PutFixed32(&c, crc32c::Mask(crc));
  t.replace(size + 1, 4, c);
  Entries got;
  const Status s = ParseTable(t, "x.index", &got);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("data block at offset 0") != std::string::npos);
}
