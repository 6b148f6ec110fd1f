#include "tfformat/bundle_writer.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "proto/tensor_bundle.pb.h"
#include "tfformat/crc32c.h"
#include "tfformat/table_builder.h"

namespace pipeline {
namespace {

void Extend(uint32_t* crc, const void* p, size_t n) { *crc = crc32c::Extend(*crc, static_cast<const char*>(p), n); }

// String tensor layout (TensorFlow's): varint64 length of every element, then
// the masked CRC of those lengths (each taken as little-endian uint32, or
// uint64 if it does not fit), then the element bytes. The entry checksum
// covers the lengths (same widths), the 4 stored checksum bytes and the
// element bytes.
void AppendStrings(const std::vector<std::string>& strings, std::string* out, uint32_t* crc) {
  *crc = 0;
  for (const std::string& s : strings) {
    const uint64_t len = s.size();
    table::PutVarint64(out, len);
    if (len <= UINT32_MAX) {
      const uint32_t len32 = static_cast<uint32_t>(len);
      Extend(crc, &len32, sizeof len32);  // little-endian host
    } else {
      Extend(crc, &len, sizeof len);
    }
  }
  std::string masked;
  table::PutFixed32(&masked, crc32c::Mask(*crc));
  out->append(masked);
  Extend(crc, masked.data(), masked.size());
  for (const std::string& s : strings) {
    out->append(s);
    Extend(crc, s.data(), s.size());
  }
}

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tempstate";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IOError(tmp + ": cannot create");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) return Status::IOError(tmp + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IOError(path + ": rename failed: " + ec.message());
  return Status::Ok();
}

}  // namespace

Status EncodeBundle(const BundleTensors& tensors, std::string* index_file, std::string* data_file,
                    const BundleWriteOptions& options) {
  std::vector<const std::string*> order;
  if (options.data_order.empty()) {
    for (const auto& kv : tensors) order.push_back(&kv.first);
  } else {
    std::set<std::string> seen;
    for (const std::string& k : options.data_order) {
      auto it = tensors.find(k);
      if (it == tensors.end() || !seen.insert(k).second) {
        return Status::InvalidArgument("bundle data order: unknown or repeated key '" + k + "'");
      }
      order.push_back(&it->first);
    }
    if (order.size() != tensors.size()) {
      return Status::InvalidArgument("bundle data order does not list every tensor");
    }
  }

  std::string data;
  std::map<std::string, std::string> serialized_entries;

  tensorflow::BundleHeaderProto header;
  header.set_num_shards(1);
  header.set_endianness(tensorflow::BundleHeaderProto::LITTLE);
  header.mutable_version()->set_producer(1);  // min_consumer 0
  for (const std::string* key_ptr : order) {
    const std::string& key = *key_ptr;
    const BundleTensor& t = tensors.at(key);
    if (key.empty()) return Status::InvalidArgument("checkpoint tensor key must not be empty");
    int64_t n = 1;
    for (int64_t d : t.shape) {
      if (d < 0) return Status::InvalidArgument("tensor '" + key + "': negative dimension");
      n *= d;
    }
    tensorflow::BundleEntryProto e;
    e.set_dtype(t.dtype);
    auto* shape = e.mutable_shape();
    for (int64_t d : t.shape) shape->add_dim()->set_size(d);
    e.set_shard_id(0);
    e.set_offset(static_cast<int64_t>(data.size()));
    uint32_t crc = 0;
    if (t.dtype == tensorflow::DT_STRING) {
      if (static_cast<int64_t>(t.strings.size()) != n) {
        return Status::InvalidArgument("tensor '" + key + "': " + std::to_string(t.strings.size()) +
                                       " strings for " + std::to_string(n) + " elements");
      }
      const size_t before = data.size();
      AppendStrings(t.strings, &data, &crc);
      e.set_size(static_cast<int64_t>(data.size() - before));
    } else {
      const size_t elem = DataTypeSize(t.dtype);
      if (elem == 0) {
        return Status::InvalidArgument("tensor '" + key + "': dtype " + tensorflow::DataType_Name(t.dtype) +
                                       " cannot be stored in a checkpoint by this writer");
      }
      if (t.bytes.size() != static_cast<size_t>(n) * elem) {
        return Status::InvalidArgument("tensor '" + key + "': " + std::to_string(t.bytes.size()) + " bytes for " +
                                       std::to_string(n) + " elements of " + std::to_string(elem) + " bytes");
      }
      data.append(t.bytes);
      crc = crc32c::Value(t.bytes);
      e.set_size(static_cast<int64_t>(t.bytes.size()));
    }
    e.set_crc32c(crc32c::Mask(crc));
    serialized_entries.emplace(key, e.SerializeAsString());
    // TensorFlow's default data alignment is 1: no padding between tensors.
  }

  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(tensors.size() + 1);
  entries.emplace_back("", header.SerializeAsString());
  for (auto& kv : serialized_entries) entries.emplace_back(kv.first, std::move(kv.second));
  table::Options table_options;
  table_options.compression = options.index_compression;
  PIPELINE_RETURN_IF_ERROR(table::BuildTable(entries, table_options, index_file));
  *data_file = std::move(data);
  return Status::Ok();
}

Status WriteBundle(const std::string& prefix, const BundleTensors& tensors, const BundleWriteOptions& options) {
  std::string index, data;
  PIPELINE_RETURN_IF_ERROR(EncodeBundle(tensors, &index, &data, options));
  const std::filesystem::path parent = std::filesystem::path(prefix).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return Status::IOError(parent.string() + ": cannot create directory: " + ec.message());
  }
  // Data first: a bundle is only visible once its index exists.
  PIPELINE_RETURN_IF_ERROR(WriteFileAtomically(BundleDataPath(prefix), data));
  return WriteFileAtomically(BundleIndexPath(prefix), index);
}

}  // namespace pipeline
