// TFRecord framing, as TensorFlow's io::RecordWriter writes it (no
// compression): for each record
//   uint64 length (little-endian)
//   uint32 masked crc32c of the 8 length bytes
//   byte   data[length]
//   uint32 masked crc32c of data
// Used for assets.extra/tf_serving_warmup_requests and TensorBoard event files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace pipeline::tfrecord {

// Appends one framed record to *out.
void AppendRecord(std::string_view data, std::string* out);

// Frames every record.
std::string Encode(const std::vector<std::string>& records);

// Parses a whole TFRecord file held in memory, verifying both CRCs of every
// record. Corruption (naming the record's offset) on any framing error.
Status Decode(std::string_view contents, std::vector<std::string>* records);

// Appends records to a file, fsyncing on Flush()/Close() (for event files).
class Writer {
 public:
  Writer() = default;
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Creates or truncates `path` (append = false) or appends to it.
  Status Open(const std::string& path, bool append = false);
  Status Write(std::string_view record);
  Status Flush();  // write(2) is unbuffered here; Flush fsyncs
  Status Close();
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

// Writes `records` to `path` durably (temporary sibling, fsync, rename).
Status WriteFile(const std::string& path, const std::vector<std::string>& records);

}  // namespace pipeline::tfrecord
