// How large each kind of input file may be, in one place. Every file a user
// (or whoever wrote a model or dataset) can point pipeline at is read through
// ReadInputFile / OpenInputFile (common/files.h) with one of these kinds: the
// noun names the file in messages, the limit refuses a file before any of it
// is read. A limit is far above any real file of its kind and far below what
// would exhaust memory on a workstation; the reasons are next to each.
#pragma once

#include <cstdint>

namespace pipeline {

struct InputKind {
  const char* noun;    // "config file": "is a directory, not a config file"
  uint64_t max_bytes;  // a larger file is refused, naming its size and this limit
};

namespace input {

inline constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

// Pipeline and sweep YAML: real ones are a few KiB; yaml-cpp's tree costs ~100x the text.
inline constexpr InputKind kConfigFile{"config file", 16 * kMiB};
inline constexpr InputKind kSweepFile{"sweep file", 16 * kMiB};
// predict --json-instances: 60,000 MNIST rows as JSON text are ~200 MiB.
inline constexpr InputKind kJsonInstances{"JSON instances file", 1 * kGiB};
// protobuf refuses to parse a message of 2 GiB or more (INT_MAX bytes).
inline constexpr InputKind kSavedModelProto{"saved_model.pb", 2 * kGiB - 1};
// A tensor bundle's index holds one small entry per tensor; the data file the weights.
inline constexpr InputKind kBundleIndex{"tensor bundle index", 1 * kGiB};
inline constexpr InputKind kBundleData{"tensor bundle data file", 16 * kGiB};
// Weights plus optimizer slots (Adam: 3x the weights).
inline constexpr InputKind kCheckpoint{"checkpoint", 48 * kGiB};
// predict --examples, TensorBoard event files, warmup requests.
inline constexpr InputKind kTFRecordFile{"TFRecord file", 4 * kGiB};
// pipeline serve --model_config_file / --batching_parameters_file /
// --monitoring_config_file: text protos of a few KiB.
inline constexpr InputKind kServerConfigFile{"model server config file", 16 * kMiB};
// IDX data (plain or gzip) on disk; the decompressed content is bounded by
// kIdxContentBytes, which the header's dimensions must also respect.
inline constexpr InputKind kIdxFile{"IDX file", 16 * kGiB};
inline constexpr uint64_t kIdxContentBytes = 16 * kGiB;
// dataset.name: csv files are read whole and parsed into floats (4 bytes a
// field): 1 GiB of text is tens of millions of rows.
inline constexpr InputKind kCsvFile{"CSV file", 1 * kGiB};
// Files of a run or sweep directory read back by report, --resume and sweeps:
// metrics.jsonl, summary.json, confusion.json, config.yaml, trial logs.
inline constexpr InputKind kRunRecord{"run record", 256 * kMiB};

}  // namespace input
}  // namespace pipeline
