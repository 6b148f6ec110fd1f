// Reads a LevelDB-format table as written by TensorFlow (checkpoint .index
// files), verifying the footer, every block checksum and the block structure.
// Snappy-compressed blocks are supported. The whole table is loaded into
// memory: checkpoint indexes are small.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "tfformat/table_format.h"

namespace pipeline::table {

using Entries = std::vector<std::pair<std::string, std::string>>;

// What the reader saw, for diagnostics and tests.
struct TableStats {
  size_t data_blocks = 0;
  size_t snappy_blocks = 0;  // of all blocks (data, metaindex, index)
  BlockHandle index_handle;
  BlockHandle metaindex_handle;
};

// Parses a table held in memory. `name` (usually the file path) prefixes
// every error message. All format errors are Status::Corruption and name the
// offending block's file offset (or the footer).
Status ParseTable(std::string_view contents, const std::string& name, Entries* entries,
                  TableStats* stats = nullptr);

// Reads and parses the file at `path` (NotFound / IOError if unreadable).
Status ReadTableFile(const std::string& path, Entries* entries, TableStats* stats = nullptr);

}  // namespace pipeline::table
