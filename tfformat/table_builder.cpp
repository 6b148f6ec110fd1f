#include "tfformat/table_builder.h"

#include <snappy.h>

#include <algorithm>

#include "tfformat/crc32c.h"

namespace pipeline::table {
namespace {

// Shortens *start to a key in [*start, limit) when possible (index keys only
// need to separate blocks). Same rule as TensorFlow's bytewise comparator.
void ShortestSeparator(std::string* start, std::string_view limit) {
  const size_t min_len = std::min(start->size(), limit.size());
  size_t i = 0;
  while (i < min_len && (*start)[i] == limit[i]) ++i;
  if (i >= min_len) return;  // one is a prefix of the other
  const auto b = static_cast<uint8_t>((*start)[i]);
  if (b < 0xff && b + 1 < static_cast<uint8_t>(limit[i])) {
    (*start)[i] = static_cast<char>(b + 1);
    start->resize(i + 1);
  }
}

// Shortens *key to some key >= it.
void ShortSuccessor(std::string* key) {
  for (size_t i = 0; i < key->size(); ++i) {
    const auto b = static_cast<uint8_t>((*key)[i]);
    if (b != 0xff) {
      (*key)[i] = static_cast<char>(b + 1);
      key->resize(i + 1);
      return;
    }
  }
}

}  // namespace

void TableBuilder::Block::Add(std::string_view key, std::string_view value) {
  size_t shared = 0;
  if (counter_ < interval_) {
    const size_t n = std::min(last_key_.size(), key.size());
    while (shared < n && last_key_[shared] == key[shared]) ++shared;
  } else {
    restarts_.push_back(static_cast<uint32_t>(buf_.size()));
    counter_ = 0;
  }
  PutVarint32(&buf_, static_cast<uint32_t>(shared));
  PutVarint32(&buf_, static_cast<uint32_t>(key.size() - shared));
  PutVarint32(&buf_, static_cast<uint32_t>(value.size()));
  buf_.append(key.substr(shared));
  buf_.append(value);
  last_key_.assign(key);
  ++counter_;
}

std::string TableBuilder::Block::Finish() {
  std::string out = std::move(buf_);
  for (uint32_t r : restarts_) PutFixed32(&out, r);
  PutFixed32(&out, static_cast<uint32_t>(restarts_.size()));
  buf_.clear();
  restarts_.assign(1, 0);
  counter_ = 0;
  last_key_.clear();
  return out;
}

TableBuilder::TableBuilder(Options options)
    : options_(options), data_block_(options.block_restart_interval), index_block_(1) {}

void TableBuilder::Add(std::string_view key, std::string_view value) {
  if (!status_.ok() || finished_) return;
  if (num_entries_ > 0) {
    if (key <= std::string_view(last_key_)) {
      status_ = Status::InvalidArgument("table keys must be strictly increasing: '" + std::string(key) +
                                        "' after '" + last_key_ + "'");
      return;
    }
    // An entry much larger than a block gets a block of its own.
    if (key.size() + value.size() >= 2 * options_.block_size) Flush();
  }
  if (pending_index_entry_) {
    ShortestSeparator(&last_key_, key);
    std::string handle;
    pending_handle_.EncodeTo(&handle);
    index_block_.Add(last_key_, handle);
    pending_index_entry_ = false;
  }
  last_key_.assign(key);
  ++num_entries_;
  data_block_.Add(key, value);
  if (data_block_.SizeEstimate() >= options_.block_size) Flush();
}

void TableBuilder::Flush() {
  if (data_block_.empty()) return;
  WriteBlock(&data_block_, &pending_handle_);
  pending_index_entry_ = true;
}

void TableBuilder::WriteBlock(Block* block, BlockHandle* handle) {
  const std::string raw = block->Finish();
  if (options_.compression == Compression::kSnappy) {
    std::string compressed;
    snappy::Compress(raw.data(), raw.size(), &compressed);
    // Keep the compressed form only if it saves at least 12.5%.
    if (compressed.size() < raw.size() - raw.size() / 8) {
      WriteRawBlock(compressed, Compression::kSnappy, handle);
      return;
    }
  }
  WriteRawBlock(raw, Compression::kNone, handle);
}

void TableBuilder::WriteRawBlock(std::string_view contents, Compression type, BlockHandle* handle) {
  handle->offset = out_.size();
  handle->size = contents.size();
  out_.append(contents);
  const char type_byte = static_cast<char>(type);
  const uint32_t crc = crc32c::Extend(crc32c::Value(contents.data(), contents.size()), &type_byte, 1);
  out_.push_back(type_byte);
  PutFixed32(&out_, crc32c::Mask(crc));
}

Status TableBuilder::Finish(std::string* file_contents) {
  if (finished_) return Status::InvalidArgument("TableBuilder::Finish called twice");
  finished_ = true;
  if (!status_.ok()) return status_;
  Flush();

  BlockHandle metaindex_handle, index_handle;
  Block metaindex(options_.block_restart_interval);
  WriteBlock(&metaindex, &metaindex_handle);

  if (pending_index_entry_) {
    ShortSuccessor(&last_key_);
    std::string handle;
    pending_handle_.EncodeTo(&handle);
    index_block_.Add(last_key_, handle);
    pending_index_entry_ = false;
  }
  WriteBlock(&index_block_, &index_handle);

  std::string footer;
  metaindex_handle.EncodeTo(&footer);
  index_handle.EncodeTo(&footer);
  footer.resize(2 * kMaxBlockHandleLength, '\0');
  PutFixed32(&footer, static_cast<uint32_t>(kTableMagic & 0xffffffffu));
  PutFixed32(&footer, static_cast<uint32_t>(kTableMagic >> 32));
  out_.append(footer);
  *file_contents = std::move(out_);
  out_.clear();
  return Status::Ok();
}

Status BuildTable(const std::vector<std::pair<std::string, std::string>>& sorted_entries, const Options& options,
                  std::string* file_contents) {
  TableBuilder b(options);
  for (const auto& [k, v] : sorted_entries) b.Add(k, v);
  return b.Finish(file_contents);
}

}  // namespace pipeline::table
