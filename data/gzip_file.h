// Sequential reading of a file that is either plain or gzip-compressed.
// Compression is detected by the gzip magic bytes (1f 8b), never by the name;
// a name ending in ".gz" on a file without the magic is reported as corrupt.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace pipeline {

class ByteReader {
 public:
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // NotFound (no such file), IOError (cannot open/read), Corruption (empty
  // file, ".gz" name without gzip magic).
  static Status Open(const std::string& path, std::unique_ptr<ByteReader>* out);

  // Reads up to `n` bytes of (decompressed) content; *got < n only at the end
  // of the content. Corruption for bad or truncated gzip data, naming the file,
  // the compressed offset and the decompressed offset.
  Status Read(uint8_t* dst, size_t n, size_t* got);

  const std::string& path() const { return path_; }
  bool compressed() const { return gzip_; }
  uint64_t offset() const { return offset_; }  // content bytes delivered so far
  uint64_t file_size() const { return file_size_; }
  // The content size when it is cheap to know: the file size for plain files,
  // the gzip trailer's ISIZE (mod 2^32, untrusted) for gzip files.
  std::optional<uint64_t> size_hint() const { return size_hint_; }

  // "byte offset 16" or "byte offset 16 of the decompressed stream".
  std::string Where(uint64_t offset) const;

 private:
  ByteReader() = default;
  Status Fill();  // reads more compressed input into in_
  Status ReadGzip(uint8_t* dst, size_t n, size_t* got);

  std::string path_;
  FILE* file_ = nullptr;
  bool gzip_ = false;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  std::optional<uint64_t> size_hint_;

  // gzip state
  void* zs_ = nullptr;          // z_stream*
  std::vector<uint8_t> in_;
  uint64_t file_read_ = 0;      // compressed bytes read from the file
  bool eof_ = false;            // no more compressed input in the file
  bool member_end_ = false;     // the current gzip member ended (Z_STREAM_END)
  bool done_ = false;           // all content delivered
};

}  // namespace pipeline
