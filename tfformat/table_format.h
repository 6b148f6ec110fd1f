// Shared pieces of the LevelDB table format as TensorFlow's core/lib/io uses
// it for checkpoint .index files: integer coding, block handles, the footer.
//
// File layout:
//   data block 0 .. data block N-1, metaindex block (empty), index block,
//   footer (48 bytes).
// Every block is followed by a 5-byte trailer: compression type (0 none,
// 1 snappy) and the masked CRC-32C of (stored block bytes + type byte).
// Block contents: entries (varint32 shared, varint32 non_shared,
// varint32 value_len, key suffix, value), then the fixed32 restart offsets,
// then fixed32 restart count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pipeline::table {

enum class Compression : uint8_t { kNone = 0, kSnappy = 1 };

// Writer options; the defaults are TensorFlow's table::Options except for
// compression, which TensorFlow's checkpoint (BundleWriter) turns off.
struct Options {
  size_t block_size = 262144;      // target uncompressed data block size
  int block_restart_interval = 16;  // keys between full (unshared) keys
  Compression compression = Compression::kNone;
};

constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kBlockTrailerSize = 5;
constexpr size_t kMaxBlockHandleLength = 20;  // two varint64s
constexpr size_t kFooterLength = 2 * kMaxBlockHandleLength + 8;

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);
// Consume a varint from the front of *in; false if malformed or truncated.
bool GetVarint32(std::string_view* in, uint32_t* v);
bool GetVarint64(std::string_view* in, uint64_t* v);

// Location of a block (excluding its trailer) in the file.
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
  void EncodeTo(std::string* dst) const;
  bool DecodeFrom(std::string_view* in);
};

}  // namespace pipeline::table
