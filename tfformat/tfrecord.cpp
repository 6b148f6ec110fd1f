#include "tfformat/tfrecord.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"
#include "tfformat/crc32c.h"

namespace pipeline::tfrecord {
namespace {

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutFixed32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

void AppendRecord(std::string_view data, std::string* out) {
  std::string header;
  PutFixed64(&header, data.size());
  out->append(header);
  PutFixed32(out, crc32c::Mask(crc32c::Value(header)));
  out->append(data.data(), data.size());
  PutFixed32(out, crc32c::Mask(crc32c::Value(data)));
}

std::string Encode(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) AppendRecord(r, &out);
  return out;
}

Status Decode(std::string_view c, std::vector<std::string>* records) {
  records->clear();
  size_t pos = 0;
  while (pos < c.size()) {
    const std::string at = " at offset " + std::to_string(pos);
    if (c.size() - pos < 12) return Status::Corruption("tfrecord: truncated record header" + at);
    const uint64_t len = GetFixed64(c.data() + pos);
    if (crc32c::Unmask(GetFixed32(c.data() + pos + 8)) != crc32c::Value(c.data() + pos, 8))
      return Status::Corruption("tfrecord: length checksum mismatch" + at);
    if (len > c.size() - pos - 12 || c.size() - pos - 12 - len < 4)
      return Status::Corruption("tfrecord: truncated record data" + at);
    const char* data = c.data() + pos + 12;
    if (crc32c::Unmask(GetFixed32(data + len)) != crc32c::Value(data, len))
      return Status::Corruption("tfrecord: data checksum mismatch" + at);
    records->emplace_back(data, len);
    pos += 12 + len + 4;
  }
  return Status::Ok();
}

Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
}

Status Writer::Open(const std::string& path, bool append) {
  if (fd_ >= 0) return Status::Runtime("tfrecord: writer already open on " + path_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd_ < 0) return Status::IOError("tfrecord: cannot open " + path + ": " + std::strerror(errno));
  path_ = path;
  return Status::Ok();
}

Status Writer::Write(std::string_view record) {
  if (fd_ < 0) return Status::Runtime("tfrecord: writer not open");
  std::string framed;
  AppendRecord(record, &framed);
  size_t done = 0;
  while (done < framed.size()) {
    ssize_t n = ::write(fd_, framed.data() + done, framed.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("tfrecord: cannot write " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Writer::Flush() {
  if (fd_ < 0) return Status::Runtime("tfrecord: writer not open");
  if (::fsync(fd_) != 0) return Status::IOError("tfrecord: cannot fsync " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

Status Writer::Close() {
  if (fd_ < 0) return Status::Ok();
  Status st = Flush();
  if (::close(fd_) != 0 && st.ok()) st = Status::IOError("tfrecord: cannot close " + path_ + ": " + std::strerror(errno));
  fd_ = -1;
  return st;
}

Status WriteFile(const std::string& path, const std::vector<std::string>& records) {
  return WriteFileAtomic(path, Encode(records));
}

}  // namespace pipeline::tfrecord
