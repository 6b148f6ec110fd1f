// IDX files (the MNIST format): a big-endian header -- magic 0x000008NN with
// element type 0x08 (unsigned byte) and NN dimensions, then NN uint32 sizes --
// followed by the row-major items. Files may be plain or gzip-compressed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/gzip_file.h"

namespace pipeline {

enum class IdxKind { kImages, kLabels };  // idx3 (count x rows x cols) / idx1 (count)

struct IdxHeader {
  IdxKind kind = IdxKind::kImages;
  std::vector<uint32_t> dims;   // dims[0] = number of items
  int64_t count = 0;            // items
  int64_t item_size = 0;        // bytes per item: rows*cols for images, 1 for labels
  int64_t header_size = 0;      // 4 + 4 * dims.size()
};

// "<prefix>-images-idx3-ubyte" / "<prefix>-labels-idx1-ubyte".
std::string IdxFileName(const std::string& prefix, IdxKind kind);

// Finds "<dir>/<name>" or "<dir>/<name>.gz" (the plain file wins when both
// exist). NotFound when neither exists.
Status FindIdxFile(const std::string& dir, const std::string& prefix, IdxKind kind, std::string* path);

// A contiguous run of items to copy out of an IDX file into *out (replaced).
struct IdxRange {
  int64_t start = 0;
  int64_t count = 0;
  std::vector<uint8_t>* out = nullptr;
};

class IdxReader {
 public:
  // Opens `path` and parses and checks its header for `kind`. Corruption for a
  // wrong magic, element type or dimension count, a truncated header, or (plain
  // files) a size that disagrees with the header; NotFound/IOError from opening.
  static Status Open(const std::string& path, IdxKind kind, std::unique_ptr<IdxReader>* out);

  const IdxHeader& header() const { return header_; }
  const std::string& path() const { return in_->path(); }
  bool compressed() const { return in_->compressed(); }

  // Streams the items once (call at most once), copying every range, which
  // must lie within the header's count (else InvalidArgument). Checks the
  // content size against the header (Corruption) and, when label_limit > 0,
  // that every item byte in the file is < label_limit (Corruption naming the
  // example index and byte offset). Memory: only the ranges plus a buffer.
  Status ReadRanges(const std::vector<IdxRange>& ranges, int64_t label_limit = 0);

 private:
  IdxReader() = default;
  std::unique_ptr<ByteReader> in_;
  IdxHeader header_;
  bool consumed_ = false;
};

// Reads a whole IDX file: header and all items (into *items).
Status ReadIdxFile(const std::string& path, IdxKind kind, IdxHeader* header, std::vector<uint8_t>* items,
                   int64_t label_limit = 0);

}  // namespace pipeline
