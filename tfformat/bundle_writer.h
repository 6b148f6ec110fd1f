// Writes a TensorFlow V2 checkpoint (tensor bundle) byte-identical to
// TensorFlow's BundleWriter with default options for the same tensors:
//   <prefix>.index                LevelDB table, uncompressed: "" -> header,
//                                 then key -> BundleEntryProto, sorted
//   <prefix>.data-00000-of-00001  tensor bytes concatenated in key order
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tfformat/bundle_tensor.h"
#include "tfformat/table_format.h"

namespace pipeline {

struct BundleWriteOptions {
  // TensorFlow's BundleWriter writes the index uncompressed (since TF 1.2 by
  // intent; some later writers, e.g. TF 1.14 and 2.14, produced snappy index
  // blocks). Readers accept both.
  table::Compression index_compression = table::Compression::kNone;
  // Order of tensors in the data file. Empty = key order (what TF1's Saver
  // produces). Otherwise a permutation of all keys; e.g. TF2's object-based
  // checkpoints put _CHECKPOINTABLE_OBJECT_GRAPH after the variables.
  std::vector<std::string> data_order;
};

// Builds both files in memory. Keys must be non-empty; numeric tensors must
// hold exactly NumElements() * DataTypeSize(dtype) bytes, string tensors
// exactly NumElements() strings; anything else is InvalidArgument.
// data_order must be empty or a permutation of the keys (else InvalidArgument).
Status EncodeBundle(const BundleTensors& tensors, std::string* index_file, std::string* data_file,
                    const BundleWriteOptions& options = {});

// EncodeBundle + write both files (creating the parent directory). Each file
// is written to a temporary name and renamed into place.
Status WriteBundle(const std::string& prefix, const BundleTensors& tensors, const BundleWriteOptions& options = {});

}  // namespace pipeline
