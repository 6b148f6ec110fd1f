#include "data/idx.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "common/files.h"

namespace pipeline {
namespace {

constexpr size_t kBuffer = 1 << 18;

const char* KindName(IdxKind kind) { return kind == IdxKind::kImages ? "images" : "labels"; }
int KindDims(IdxKind kind) { return kind == IdxKind::kImages ? 3 : 1; }

const char* TypeName(uint8_t t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown type";
  }
}

uint32_t BigEndian32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string DimsText(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

std::string IdxFileName(const std::string& prefix, IdxKind kind) {
  return prefix + (kind == IdxKind::kImages ? "-images-idx3-ubyte" : "-labels-idx1-ubyte");
}

Status FindIdxFile(const std::string& dir, const std::string& prefix, IdxKind kind, std::string* path) {
  namespace fs = std::filesystem;
  fs::path base = fs::path(dir) / IdxFileName(prefix, kind);
  std::error_code ec;
  if (fs::exists(base, ec)) {
    *path = base.string();
    return Status::Ok();
  }
  fs::path gz = base;
  gz += ".gz";
  if (fs::exists(gz, ec)) {
    *path = gz.string();
    return Status::Ok();
  }
  return Status::NotFound(fmt::format("neither {} nor {} exists", base.string(), gz.string()));
}

Status IdxReader::Open(const std::string& path, IdxKind kind, std::unique_ptr<IdxReader>* out) {
  std::unique_ptr<IdxReader> r(new IdxReader());
  PIPELINE_RETURN_IF_ERROR(ByteReader::Open(path, &r->in_));
  ByteReader& in = *r->in_;
  IdxHeader& h = r->header_;
  h.kind = kind;
  const int want_dims = KindDims(kind);
  const uint32_t want_magic = 0x800u | uint32_t(want_dims);

  uint8_t head[4 + 4 * 3];
  size_t got = 0;
  PIPELINE_RETURN_IF_ERROR(in.Read(head, 4, &got));
  if (got < 4) {
    return Status::Corruption(fmt::format("{}: truncated IDX header: the content ends at {}, the magic number needs 4 bytes",
                                          path, in.Where(got)));
  }
  uint32_t magic = BigEndian32(head);
  std::string expected = fmt::format("expected 0x{:08x} ({}: unsigned byte, {} dimension{})", want_magic,
                                     KindName(kind), want_dims, want_dims == 1 ? "" : "s");
  if (head[0] != 0 || head[1] != 0) {
    return Status::Corruption(fmt::format("{}: wrong IDX magic 0x{:08x} at {}; {}", path, magic, in.Where(0), expected));
  }
  if (head[2] != 0x08) {
    return Status::Corruption(fmt::format(
        "{}: wrong IDX element type 0x{:02x} ({}) at {}; only 0x08 (unsigned byte) is supported", path, head[2],
        TypeName(head[2]), in.Where(2)));
  }
  if (head[3] != want_dims) {
    return Status::Corruption(fmt::format("{}: wrong IDX magic 0x{:08x} at {} ({} dimensions); {}", path, magic,
                                          in.Where(0), head[3], expected));
  }
  const size_t dim_bytes = 4 * size_t(want_dims);
  PIPELINE_RETURN_IF_ERROR(in.Read(head + 4, dim_bytes, &got));
  if (got < dim_bytes) {
    return Status::Corruption(fmt::format("{}: truncated IDX header: the content ends at {}, the {} dimension sizes need bytes 4-{}",
                                          path, in.Where(4 + got), want_dims, 3 + dim_bytes));
  }
  for (int i = 0; i < want_dims; ++i) h.dims.push_back(BigEndian32(head + 4 + 4 * i));
  h.header_size = int64_t(4 + dim_bytes);
  h.count = h.dims[0];
  unsigned __int128 item = 1;
  for (int i = 1; i < want_dims; ++i) item *= h.dims[i];
  if (item == 0) {
    return Status::Corruption(fmt::format("{}: IDX header at {} declares empty items ({})", path, in.Where(4),
                                          DimsText(h.dims)));
  }
  unsigned __int128 total = item * h.dims[0] + unsigned(h.header_size);
  if (total > input::kIdxContentBytes) {
    return Status::Corruption(fmt::format("{}: IDX header at {} declares {} {} ({} bytes), implausibly more than the {} limit for IDX data",
                                          path, in.Where(4), DimsText(h.dims), KindName(kind), uint64_t(total),
                                          ByteSizeText(input::kIdxContentBytes)));
  }
  h.item_size = int64_t(item);
  if (!in.compressed() && uint64_t(total) != in.file_size()) {
    return Status::Corruption(fmt::format(
        "{}: the IDX header at byte offset 4 declares {} {} ({} bytes including the header) but the file has {} bytes",
        path, DimsText(h.dims), KindName(kind), uint64_t(total), in.file_size()));
  }
  *out = std::move(r);
  return Status::Ok();
}

Status IdxReader::ReadRanges(const std::vector<IdxRange>& ranges, int64_t label_limit) {
  if (consumed_) return Status::Runtime(path() + ": IdxReader::ReadRanges called twice");
  consumed_ = true;
  const IdxHeader& h = header_;
  for (const IdxRange& r : ranges) {
    if (r.out == nullptr || r.start < 0 || r.count < 0 || r.start > h.count || r.count > h.count - r.start) {
      return Status::InvalidArgument(fmt::format("{}: range start {} count {} is outside the {} items of the file",
                                                 path(), r.start, r.count, h.count));
    }
  }
  const uint64_t body = uint64_t(h.count) * uint64_t(h.item_size);
  // Reserve exactly when the size is known to be right; otherwise grow as data
  // arrives, so a lying header cannot make us allocate memory the file lacks.
  bool trust = !in_->compressed() ||
               (in_->size_hint() && *in_->size_hint() == ((body + uint64_t(h.header_size)) & 0xffffffffull));
  for (const IdxRange& r : ranges) {
    r.out->clear();
    r.out->shrink_to_fit();
    if (trust) r.out->reserve(size_t(r.count * h.item_size));
  }

  std::vector<uint8_t> buf(kBuffer);
  uint64_t pos = 0;  // offset in the item data (after the header)
  bool stopped_early = false;  // more content may follow what was read
  while (true) {
    size_t got = 0;
    PIPELINE_RETURN_IF_ERROR(in_->Read(buf.data(), buf.size(), &got));
    if (got == 0) break;
    const uint64_t end = pos + got;
    const uint64_t valid_end = std::min(end, body);  // bytes past `body` are reported below
    if (label_limit > 0) {
      for (uint64_t p = pos; p < valid_end; ++p) {
        uint8_t v = buf[p - pos];
        if (v >= label_limit) {
          return Status::Corruption(fmt::format("{}: label {} of example {} at {} is not below num_classes {}",
                                                path(), v, p / uint64_t(h.item_size), in_->Where(h.header_size + p),
                                                label_limit));
        }
      }
    }
    for (const IdxRange& r : ranges) {
      uint64_t rs = uint64_t(r.start) * uint64_t(h.item_size);
      uint64_t re = rs + uint64_t(r.count) * uint64_t(h.item_size);
      uint64_t a = std::max(rs, pos), b = std::min(re, valid_end);
      if (a < b) r.out->insert(r.out->end(), buf.begin() + (a - pos), buf.begin() + (b - pos));
    }
    pos = end;
    if (got < buf.size()) break;
    // The header's size is the bound: a gzip stream that decompresses past it
    // (a bomb) is refused now, not inflated to its end.
    if (pos > body) {
      stopped_early = true;
      break;
    }
  }
  if (pos != body) {
    uint64_t header = uint64_t(h.header_size);
    if (pos < body) {
      return Status::Corruption(fmt::format(
          "{}: the {} data ends at {} but the IDX header (byte offset 4) declares {} = {} bytes including the header; "
          "the file is truncated or its header is wrong",
          path(), KindName(h.kind), in_->Where(header + pos), DimsText(h.dims), header + body));
    }
    return Status::Corruption(fmt::format(
        "{}: {}{} unexpected bytes after the {} declared by the IDX header ({}), starting at {}", path(),
        stopped_early ? "at least " : "", pos - body, header + body, DimsText(h.dims),
        in_->Where(header + body)));
  }
  return Status::Ok();
}

Status ReadIdxFile(const std::string& path, IdxKind kind, IdxHeader* header, std::vector<uint8_t>* items,
                   int64_t label_limit) {
  std::unique_ptr<IdxReader> reader;
  PIPELINE_RETURN_IF_ERROR(IdxReader::Open(path, kind, &reader));
  if (header != nullptr) *header = reader->header();
  return reader->ReadRanges({IdxRange{0, reader->header().count, items}}, label_limit);
}

}  // namespace pipeline
