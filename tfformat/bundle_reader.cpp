#include "tfformat/bundle_reader.h"

#include <string_view>
#include <vector>

#include "tfformat/crc32c.h"
#include "common/files.h"
#include "tfformat/table_reader.h"
#include "tfformat/tensor_value.h"

namespace pipeline {
namespace {

constexpr int kBundleVersion = 1;  // format version this reader implements

void Extend(uint32_t* crc, const void* p, size_t n) { *crc = crc32c::Extend(*crc, static_cast<const char*>(p), n); }

std::string Describe(const std::string& key, const std::string& file, const tensorflow::BundleEntryProto& e) {
  return file + ": tensor '" + key + "' (offset " + std::to_string(e.offset()) + ", " + std::to_string(e.size()) +
         " bytes)";
}

// Decodes a DT_STRING tensor stored at `in` (exactly the entry's bytes);
// returns the running CRC TensorFlow's writer computed.
Status DecodeStrings(std::string_view in, int64_t n, const std::string& what, std::vector<std::string>* out,
                     uint32_t* crc) {
  *crc = 0;
  if (n > static_cast<int64_t>(in.size())) {
    return Status::Corruption(what + ": too small for " + std::to_string(n) + " string lengths");
  }
  std::vector<uint64_t> lengths(static_cast<size_t>(n));
  for (auto& len : lengths) {
    if (!table::GetVarint64(&in, &len)) return Status::Corruption(what + ": malformed string length");
    if (len <= UINT32_MAX) {
      const uint32_t len32 = static_cast<uint32_t>(len);
      Extend(crc, &len32, sizeof len32);
    } else {
      Extend(crc, &len, sizeof len);
    }
  }
  if (in.size() < 4) return Status::Corruption(what + ": missing string-length checksum");
  if (crc32c::Unmask(table::DecodeFixed32(in.data())) != *crc) {
    return Status::Corruption(what + ": string-length checksum mismatch");
  }
  Extend(crc, in.data(), 4);
  in.remove_prefix(4);
  out->clear();
  out->reserve(lengths.size());
  for (uint64_t len : lengths) {
    if (len > in.size()) return Status::Corruption(what + ": string data truncated");
    out->emplace_back(in.substr(0, len));
    Extend(crc, in.data(), len);
    in.remove_prefix(len);
  }
  if (!in.empty()) return Status::Corruption(what + ": " + std::to_string(in.size()) + " unexpected trailing bytes");
  return Status::Ok();
}

}  // namespace

Status ReadBundleEntries(const std::string& prefix, std::map<std::string, tensorflow::BundleEntryProto>* entries,
                         tensorflow::BundleHeaderProto* header_out) {
  const std::string index_path = BundleIndexPath(prefix);
  table::Entries kv;
  PIPELINE_RETURN_IF_ERROR(table::ReadTableFile(index_path, &kv));
  if (kv.empty() || !kv.front().first.empty()) {
    return Status::Corruption(index_path + ": missing bundle header entry (empty key)");
  }
  tensorflow::BundleHeaderProto header;
  if (!header.ParseFromString(kv.front().second)) {
    return Status::Corruption(index_path + ": bundle header is not a BundleHeaderProto");
  }
  if (header.num_shards() < 1) {
    return Status::Corruption(index_path + ": bad shard count " + std::to_string(header.num_shards()));
  }
  if (header.endianness() != tensorflow::BundleHeaderProto::LITTLE) {
    return Status::Unimplemented(index_path + ": big-endian checkpoints are not supported");
  }
  const auto& v = header.version();
  if (v.producer() < 0 || v.min_consumer() > kBundleVersion) {
    return Status::Unimplemented(index_path + ": checkpoint format version (producer " +
                                 std::to_string(v.producer()) + ", min consumer " +
                                 std::to_string(v.min_consumer()) + ") is newer than this reader");
  }
  for (int bad : v.bad_consumers()) {
    if (bad == kBundleVersion) return Status::Unimplemented(index_path + ": checkpoint format version is excluded");
  }
  entries->clear();
  for (size_t i = 1; i < kv.size(); ++i) {
    tensorflow::BundleEntryProto e;
    if (!e.ParseFromString(kv[i].second)) {
      return Status::Corruption(index_path + ": entry for key '" + kv[i].first + "' is not a BundleEntryProto");
    }
    entries->emplace(kv[i].first, std::move(e));
  }
  if (header_out) *header_out = header;
  return Status::Ok();
}

Status ReadBundle(const std::string& prefix, BundleTensors* tensors) {
  std::map<std::string, tensorflow::BundleEntryProto> entries;
  tensorflow::BundleHeaderProto header;
  PIPELINE_RETURN_IF_ERROR(ReadBundleEntries(prefix, &entries, &header));
  const std::string index_path = BundleIndexPath(prefix);

  std::map<int, std::string> shards;  // loaded data files
  tensors->clear();
  for (const auto& [key, e] : entries) {
    if (e.slices_size() > 0) {
      return Status::Unimplemented(index_path + ": tensor '" + key + "' is partitioned (sliced)");
    }
    if (e.shard_id() < 0 || e.shard_id() >= header.num_shards()) {
      return Status::Corruption(index_path + ": tensor '" + key + "' has bad shard id " +
                                std::to_string(e.shard_id()));
    }
    const std::string data_path = BundleDataPath(prefix, e.shard_id(), header.num_shards());
    auto it = shards.find(e.shard_id());
    if (it == shards.end()) {
      std::string contents;
      PIPELINE_RETURN_IF_ERROR(ReadInputFile(data_path, input::kBundleData, &contents));
      it = shards.emplace(e.shard_id(), std::move(contents)).first;
    }
    const std::string& data = it->second;
    const std::string what = Describe(key, data_path, e);

    BundleTensor t;
    t.dtype = e.dtype();
    if (e.shape().unknown_rank()) return Status::Corruption(what + ": shape of unknown rank");
    int64_t n = 1;
    for (const auto& d : e.shape().dim()) {
      if (d.size() < 0 || (d.size() > 0 && n > (int64_t{1} << 50) / d.size())) {
        return Status::Corruption(what + ": invalid shape");
      }
      n *= d.size();
      t.shape.push_back(d.size());
    }
    if (e.offset() < 0 || e.size() < 0 || static_cast<uint64_t>(e.offset()) > data.size() ||
        static_cast<uint64_t>(e.size()) > data.size() - static_cast<uint64_t>(e.offset())) {
      return Status::Corruption(what + ": extends past the end of the data file (" + std::to_string(data.size()) +
                                " bytes)");
    }
    const std::string_view stored(data.data() + e.offset(), static_cast<size_t>(e.size()));
    uint32_t crc = 0;
    if (t.dtype == tensorflow::DT_STRING) {
      PIPELINE_RETURN_IF_ERROR(DecodeStrings(stored, n, what, &t.strings, &crc));
    } else {
      const size_t elem = DataTypeSize(t.dtype);
      if (elem == 0) {
        return Status::Unimplemented(what + ": dtype " + tensorflow::DataType_Name(t.dtype) + " is not supported");
      }
      // n <= 2^50 (checked above) and elem <= 16: the product fits.
      if (static_cast<uint64_t>(e.size()) != static_cast<uint64_t>(n) * elem) {
        return Status::Corruption(what + ": shape " + ShapeProtoString(e.shape()) + " of " +
                                  tensorflow::DataType_Name(t.dtype) + " needs " + std::to_string(n) + " elements (" +
                                  std::to_string(static_cast<uint64_t>(n) * elem) + " bytes) but the entry holds " +
                                  std::to_string(e.size()) + " bytes");
      }
      t.bytes.assign(stored);
      crc = crc32c::Value(stored);
    }
    if (crc32c::Unmask(e.crc32c()) != crc) {
      return Status::Corruption(what + ": checksum mismatch (tensor data corrupted)");
    }
    tensors->emplace(key, std::move(t));
  }
  return Status::Ok();
}

}  // namespace pipeline
