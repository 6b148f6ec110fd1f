#include "tfformat/table_reader.h"

#include <snappy.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/files.h"
#include "tfformat/crc32c.h"

namespace pipeline::table {
namespace {

constexpr size_t kMaxUncompressedBlock = size_t{1} << 30;

std::string Printable(std::string_view key) {
  std::string out;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view file, const std::string& name, TableStats* stats)
      : file_(file), name_(name), stats_(stats) {}

  Status Run(Entries* entries) {
    if (file_.size() < kFooterLength) {
      return Status::Corruption(name_ + ": file too short for a table footer (" + std::to_string(file_.size()) +
                                " bytes)");
    }
    const size_t footer_at = file_.size() - kFooterLength;
    std::string_view footer = file_.substr(footer_at);
    if (DecodeFixed64(footer.data() + 2 * kMaxBlockHandleLength) != kTableMagic) {
      return Status::Corruption(name_ + ": footer at offset " + std::to_string(footer_at) +
                                ": bad magic number (not a table file)");
    }
    BlockHandle metaindex, index;
    std::string_view handles = footer.substr(0, 2 * kMaxBlockHandleLength);
    if (!metaindex.DecodeFrom(&handles) || !index.DecodeFrom(&handles)) {
      return Status::Corruption(name_ + ": footer at offset " + std::to_string(footer_at) +
                                ": malformed block handles");
    }
    if (stats_) {
      stats_->metaindex_handle = metaindex;
      stats_->index_handle = index;
    }
    limit_ = footer_at;

    std::string meta_contents;
    PIPELINE_RETURN_IF_ERROR(ReadBlock(metaindex, "metaindex", &meta_contents));
    Entries meta_entries;
    PIPELINE_RETURN_IF_ERROR(ParseBlock(meta_contents, metaindex.offset, "metaindex", &meta_entries));

    std::string index_contents;
    PIPELINE_RETURN_IF_ERROR(ReadBlock(index, "index", &index_contents));
    Entries index_entries;
    PIPELINE_RETURN_IF_ERROR(ParseBlock(index_contents, index.offset, "index", &index_entries));

    entries->clear();
    const std::string* prev_index_key = nullptr;
    for (const auto& [index_key, handle_bytes] : index_entries) {
      std::string_view hv = handle_bytes;
      BlockHandle h;
      if (!h.DecodeFrom(&hv) || !hv.empty()) {
        return Status::Corruption(Where(index.offset, "index") + ": malformed block handle for key '" +
                                  Printable(index_key) + "'");
      }
      std::string contents;
      PIPELINE_RETURN_IF_ERROR(ReadBlock(h, "data", &contents));
      Entries block_entries;
      PIPELINE_RETURN_IF_ERROR(ParseBlock(contents, h.offset, "data", &block_entries));
      if (block_entries.empty()) return Status::Corruption(Where(h.offset, "data") + ": empty data block");
      // Index key i separates block i from block i+1.
      if (block_entries.back().first > index_key) {
        return Status::Corruption(Where(h.offset, "data") + ": key '" + Printable(block_entries.back().first) +
                                  "' is beyond its index entry '" + Printable(index_key) + "'");
      }
      if (prev_index_key && block_entries.front().first <= *prev_index_key) {
        return Status::Corruption(Where(h.offset, "data") + ": keys out of order across blocks");
      }
      prev_index_key = &index_key;
      for (auto& e : block_entries) entries->push_back(std::move(e));
      if (stats_) ++stats_->data_blocks;
    }
    return Status::Ok();
  }

 private:
  std::string Where(uint64_t offset, const char* kind) const {
    return name_ + ": " + kind + " block at offset " + std::to_string(offset);
  }

  Status ReadBlock(const BlockHandle& h, const char* kind, std::string* out) {
    if (h.offset > limit_ || h.size > limit_ - h.offset || kBlockTrailerSize > limit_ - h.offset - h.size) {
      return Status::Corruption(Where(h.offset, kind) + ": block of " + std::to_string(h.size) +
                                " bytes extends past the end of the data (" + std::to_string(limit_) + ")");
    }
    std::string_view stored = file_.substr(h.offset, h.size);
    const char* trailer = file_.data() + h.offset + h.size;
    const uint32_t expected = crc32c::Unmask(DecodeFixed32(trailer + 1));
    const uint32_t actual = crc32c::Extend(crc32c::Value(stored.data(), stored.size()), trailer, 1);
    if (expected != actual) {
      return Status::Corruption(Where(h.offset, kind) + ": block checksum mismatch");
    }
    switch (static_cast<uint8_t>(trailer[0])) {
      case static_cast<uint8_t>(Compression::kNone):
        out->assign(stored);
        return Status::Ok();
      case static_cast<uint8_t>(Compression::kSnappy): {
        size_t n = 0;
        if (!snappy::GetUncompressedLength(stored.data(), stored.size(), &n) || n > kMaxUncompressedBlock ||
            !snappy::IsValidCompressedBuffer(stored.data(), stored.size())) {
          return Status::Corruption(Where(h.offset, kind) + ": invalid snappy-compressed block");
        }
        out->resize(n);
        if (!snappy::RawUncompress(stored.data(), stored.size(), out->data())) {
          return Status::Corruption(Where(h.offset, kind) + ": snappy decompression failed");
        }
        if (stats_) ++stats_->snappy_blocks;
        return Status::Ok();
      }
      default:
        return Status::Corruption(Where(h.offset, kind) + ": unknown compression type " +
                                  std::to_string(static_cast<uint8_t>(trailer[0])));
    }
  }

  // Decodes all entries of one (decompressed) block and checks its restart
  // array and key order.
  Status ParseBlock(std::string_view b, uint64_t offset, const char* kind, Entries* out) {
    const std::string where = Where(offset, kind);
    if (b.size() < 4) return Status::Corruption(where + ": block too short");
    const uint32_t num_restarts = DecodeFixed32(b.data() + b.size() - 4);
    if (num_restarts == 0 || num_restarts > (b.size() - 4) / 4) {
      return Status::Corruption(where + ": bad restart count " + std::to_string(num_restarts));
    }
    const size_t restarts_at = b.size() - 4 - size_t{4} * num_restarts;
    std::vector<uint32_t> restarts(num_restarts);
    for (uint32_t i = 0; i < num_restarts; ++i) restarts[i] = DecodeFixed32(b.data() + restarts_at + 4 * i);

    std::string_view in = b.substr(0, restarts_at);
    std::string key;
    size_t next_restart = 0;
    out->clear();
    while (!in.empty()) {
      const size_t entry_at = restarts_at - in.size();
      uint32_t shared = 0, non_shared = 0, value_len = 0;
      if (!GetVarint32(&in, &shared) || !GetVarint32(&in, &non_shared) || !GetVarint32(&in, &value_len) ||
          size_t{non_shared} + value_len > in.size()) {
        return Status::Corruption(where + ": malformed entry at block offset " + std::to_string(entry_at));
      }
      if (shared > key.size()) {
        return Status::Corruption(where + ": entry at block offset " + std::to_string(entry_at) +
                                  " shares more bytes than the previous key has");
      }
      const bool at_restart = next_restart < restarts.size() && restarts[next_restart] == entry_at;
      if (at_restart) {
        if (shared != 0) {
          return Status::Corruption(where + ": restart entry at block offset " + std::to_string(entry_at) +
                                    " is prefix-compressed");
        }
        ++next_restart;
      } else if (out->empty()) {
        return Status::Corruption(where + ": first restart point is not the first entry");
      }
      std::string new_key = key.substr(0, shared);
      new_key.append(in.substr(0, non_shared));
      if (!out->empty() && new_key <= key) {
        return Status::Corruption(where + ": keys out of order at block offset " + std::to_string(entry_at));
      }
      key = std::move(new_key);
      out->emplace_back(key, std::string(in.substr(non_shared, value_len)));
      in.remove_prefix(size_t{non_shared} + value_len);
    }
    // Every restart must point at an entry (an empty block has the single
    // restart 0).
    const bool empty_ok = out->empty() && num_restarts == 1 && restarts[0] == 0;
    if (!empty_ok && next_restart != restarts.size()) {
      return Status::Corruption(where + ": restart array does not match the entries");
    }
    return Status::Ok();
  }

  std::string_view file_;
  const std::string& name_;
  TableStats* stats_;
  size_t limit_ = 0;
};

}  // namespace

Status ParseTable(std::string_view contents, const std::string& name, Entries* entries, TableStats* stats) {
  if (stats) *stats = TableStats{};
  Parser p(contents, name, stats);
  return p.Run(entries);
}

Status ReadTableFile(const std::string& path, Entries* entries, TableStats* stats) {
  std::string contents;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kBundleIndex, &contents));
  return ParseTable(contents, path, entries, stats);
}

}  // namespace pipeline::table
