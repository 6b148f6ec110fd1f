#include "data/gzip_file.h"

#include <zlib.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/files.h"

namespace pipeline {
namespace {

constexpr size_t kChunk = 1 << 16;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

z_stream* Z(void* p) { return static_cast<z_stream*>(p); }

}  // namespace

ByteReader::~ByteReader() {
  if (zs_ != nullptr) {
    inflateEnd(Z(zs_));
    delete Z(zs_);
  }
  if (file_ != nullptr) std::fclose(file_);
}

std::string ByteReader::Where(uint64_t offset) const {
  return gzip_ ? fmt::format("byte offset {} of the decompressed stream", offset)
               : fmt::format("byte offset {}", offset);
}

Status ByteReader::Open(const std::string& path, std::unique_ptr<ByteReader>* out) {
  std::unique_ptr<ByteReader> r(new ByteReader());
  r->path_ = path;
  // A regular file within the limit (a directory, FIFO or /dev/zero is refused
  // here, by type, not later as a read error or an "empty file").
  int fd = -1;
  PIPELINE_RETURN_IF_ERROR(OpenInputFile(path, input::kIdxFile, &fd, &r->file_size_));
  r->file_ = ::fdopen(fd, "rb");
  if (r->file_ == nullptr) {
    ::close(fd);
    return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  }
  if (r->file_size_ == 0) return Status::Corruption(path + ": empty file (0 bytes)");

  uint8_t magic[2] = {0, 0};
  size_t n = std::fread(magic, 1, 2, r->file_);
  if (std::ferror(r->file_)) return Status::IOError(path + ": read error at byte offset 0");
  std::rewind(r->file_);
  r->gzip_ = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!r->gzip_) {
    if (EndsWith(path, ".gz")) {
      return Status::Corruption(fmt::format(
          "{}: named .gz but is not gzip-compressed: byte offset 0 holds {:02x} {:02x}, expected gzip magic 1f 8b",
          path, magic[0], n > 1 ? magic[1] : 0));
    }
    r->size_hint_ = r->file_size_;
  } else {
    if (r->file_size_ >= 18) {  // 10-byte header + 8-byte trailer at least
      uint8_t t[4];
      if (std::fseek(r->file_, -4, SEEK_END) == 0 && std::fread(t, 1, 4, r->file_) == 4) {
        r->size_hint_ = uint64_t(t[0]) | uint64_t(t[1]) << 8 | uint64_t(t[2]) << 16 | uint64_t(t[3]) << 24;
      }
      std::clearerr(r->file_);
      std::rewind(r->file_);
    }
    auto* zs = new z_stream();
    std::memset(zs, 0, sizeof(*zs));
    if (inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) {
      delete zs;
      return Status::Runtime(path + ": cannot initialize zlib");
    }
    r->zs_ = zs;
    r->in_.resize(kChunk);
  }
  *out = std::move(r);
  return Status::Ok();
}

Status ByteReader::Fill() {
  z_stream* zs = Z(zs_);
  // Keep unconsumed input at the front of the buffer.
  size_t keep = zs->avail_in;
  if (keep > 0 && zs->next_in != in_.data()) std::memmove(in_.data(), zs->next_in, keep);
  size_t n = std::fread(in_.data() + keep, 1, in_.size() - keep, file_);
  if (std::ferror(file_)) {
    return Status::IOError(fmt::format("{}: read error at compressed byte offset {}", path_, file_read_));
  }
  if (n < in_.size() - keep) eof_ = true;
  file_read_ += n;
  zs->next_in = in_.data();
  zs->avail_in = static_cast<uInt>(keep + n);
  return Status::Ok();
}

Status ByteReader::ReadGzip(uint8_t* dst, size_t n, size_t* got) {
  z_stream* zs = Z(zs_);
  while (*got < n && !done_) {
    if (member_end_) {
      // Another gzip member may follow (concatenated gzip); anything else is garbage.
      if (zs->avail_in < 2 && !eof_) PIPELINE_RETURN_IF_ERROR(Fill());
      if (zs->avail_in == 0) {
        done_ = true;
        break;
      }
      uint64_t at = file_read_ - zs->avail_in;
      if (zs->avail_in < 2 || zs->next_in[0] != 0x1f || zs->next_in[1] != 0x8b) {
        return Status::Corruption(fmt::format(
            "{}: {} bytes of trailing garbage after the gzip stream at compressed byte offset {} (decompressed size {})",
            path_, file_size_ - at, at, offset_));
      }
      inflateReset(zs);
      member_end_ = false;
    }
    if (zs->avail_in == 0 && !eof_) PIPELINE_RETURN_IF_ERROR(Fill());
    zs->next_out = dst + *got;
    size_t want = n - *got;
    zs->avail_out = static_cast<uInt>(want > (1u << 30) ? (1u << 30) : want);
    uInt before = zs->avail_out;
    int ret = inflate(zs, Z_NO_FLUSH);
    size_t produced = before - zs->avail_out;
    *got += produced;
    offset_ += produced;
    uint64_t at = file_read_ - zs->avail_in;
    switch (ret) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        member_end_ = true;
        break;
      case Z_BUF_ERROR:  // no progress possible: needs input we do not have
        if (zs->avail_in == 0 && eof_) {
          return Status::Corruption(fmt::format(
              "{}: truncated gzip stream: the compressed data ends at byte offset {} before the end of the "
              "stream ({} bytes decompressed so far, i.e. up to {})",
              path_, at, offset_, Where(offset_)));
        }
        if (zs->avail_in > 0 && produced == 0) {  // cannot happen with zlib; never spin
          return Status::Corruption(fmt::format("{}: gzip data makes no progress at compressed byte offset {}",
                                                path_, at));
        }
        break;
      case Z_MEM_ERROR:
        return Status::Runtime(path_ + ": zlib out of memory");
      default:  // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
        return Status::Corruption(fmt::format(
            "{}: corrupt gzip data near compressed byte offset {} ({}): {}", path_, at, Where(offset_),
            zs->msg != nullptr ? zs->msg : "inflate error"));
    }
  }
  return Status::Ok();
}

Status ByteReader::Read(uint8_t* dst, size_t n, size_t* got) {
  *got = 0;
  if (n == 0) return Status::Ok();
  if (gzip_) return ReadGzip(dst, n, got);
  while (*got < n) {
    size_t r = std::fread(dst + *got, 1, n - *got, file_);
    *got += r;
    offset_ += r;
    if (r == 0) {
      if (std::ferror(file_)) return Status::IOError(fmt::format("{}: read error at {}", path_, Where(offset_)));
      break;
    }
  }
  return Status::Ok();
}

}  // namespace pipeline
