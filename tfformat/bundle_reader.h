// Reads a TensorFlow V2 checkpoint (tensor bundle), verifying the index
// table (block CRCs, footer), the header and every tensor's CRC-32C.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "proto/tensor_bundle.pb.h"
#include "tfformat/bundle_tensor.h"

namespace pipeline {

// Metadata only: key -> BundleEntryProto (header excluded); also validates
// the header (endianness LITTLE, version compatible).
Status ReadBundleEntries(const std::string& prefix, std::map<std::string, tensorflow::BundleEntryProto>* entries,
                         tensorflow::BundleHeaderProto* header = nullptr);

// Every tensor of the bundle. Errors:
//   NotFound       index or data file missing
//   Corruption     damaged index (names file and block offset), unparsable
//                  entry, tensor outside its data file, checksum mismatch
//                  (names the tensor key and the data file)
//   Unimplemented  big-endian bundles, partitioned (sliced) tensors,
//                  dtypes without a fixed element size other than DT_STRING
Status ReadBundle(const std::string& prefix, BundleTensors* tensors);

}  // namespace pipeline
