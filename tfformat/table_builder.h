// Writes a LevelDB-format table (sorted string -> string map) byte-identical
// to TensorFlow's table::TableBuilder with the same options. Used for the
// .index file of a checkpoint (tensor bundle).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "tfformat/table_format.h"

namespace pipeline::table {

class TableBuilder {
 public:
  explicit TableBuilder(Options options = {});

  // Keys must be strictly increasing (bytewise); the first violation makes
  // Finish() return InvalidArgument.
  void Add(std::string_view key, std::string_view value);

  // Completes the table and hands back the whole file contents.
  Status Finish(std::string* file_contents);

 private:
  class Block {
   public:
    explicit Block(int restart_interval) : interval_(restart_interval) { restarts_.push_back(0); }
    void Add(std::string_view key, std::string_view value);
    std::string Finish();  // contents incl. restart array; resets the block
    size_t SizeEstimate() const { return buf_.size() + restarts_.size() * 4 + 4; }
    bool empty() const { return buf_.empty(); }

   private:
    int interval_;
    std::string buf_;
    std::vector<uint32_t> restarts_;
    int counter_ = 0;
    std::string last_key_;
  };

  void Flush();
  void WriteBlock(Block* block, BlockHandle* handle);
  void WriteRawBlock(std::string_view contents, Compression type, BlockHandle* handle);

  Options options_;
  std::string out_;
  Block data_block_;
  Block index_block_;
  std::string last_key_;
  size_t num_entries_ = 0;
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;
  Status status_;
  bool finished_ = false;
};

// Convenience: build a table from entries already sorted by key.
Status BuildTable(const std::vector<std::pair<std::string, std::string>>& sorted_entries, const Options& options,
                  std::string* file_contents);

}  // namespace pipeline::table
