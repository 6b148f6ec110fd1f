// The typed, validated pipeline configuration. The YAML loader (config/loader.h)
// produces it; stages read it. Every field here has a key in docs/config.md.
//
// The default member initializers below are the only place a default is
// written: each schema row (config/schema.cpp) is bound to its member and
// reads its documented default from a default-constructed struct. Allowed
// values come from the registries (common/registry.h) or config/schema.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/optimizer_config.h"

namespace pipeline {

struct InitializerConfig {
  std::string type = "random_normal";
  double mean = 0.0;                   // random_normal, truncated_normal
  double stddev = 1.0;                 // random_normal, truncated_normal
};

struct LayerConfig {
  std::string type = "dense";          // layer registry key
  std::string name;                    // default: dense_<index>
  int64_t units = 0;
  std::string activation = "linear";
  InitializerConfig kernel_initializer;
  InitializerConfig bias_initializer;
  // Image layers. Sizes are lists of integers, kept as their YAML text (the
  // schema's scalar lists are strings; each element is checked as an integer).
  int64_t filters = 0;                 // conv2d
  std::vector<std::string> kernel_size;  // conv2d: [height, width]
  std::vector<std::string> pool_size{"2", "2"};  // max_pool2d avg_pool2d
  std::vector<std::string> strides;    // conv2d: default [1, 1]; pools: default pool_size
  std::string padding = "valid";       // valid same
  double rate = 0.5;                   // dropout
  double momentum = 0.99;              // batch_norm
  double epsilon = 0.001;              // batch_norm
  double weight_decay = -1.0;          // dense conv2d: the kernel's; < 0 (not given): optimizer.weight_decay
};

struct ModelConfig {
  int64_t input = 784;                 // features per example
  std::vector<std::string> input_shape;  // [height, width, channels] of an image; their product is `input`
  std::vector<LayerConfig> layers;
};

// One split of the data: `count` examples starting at `start` in the IDX pair
// `<file>-images-idx3-ubyte(.gz)` / `<file>-labels-idx1-ubyte(.gz)`.
struct SplitConfig {
  std::string file;                    // "train" or "t10k"
  int64_t start = 0;
  int64_t count = -1;                  // -1: to the end of the file
};

// dataset.name: csv. One file cut into splits by fraction and seed, or one
// file per split. Columns are named by the header row (or `names`).
struct CsvConfig {
  std::vector<std::string> files;      // [all] (split by fractions) or [train, validation, test] / [train, test]
  int64_t skip_lines = 0;              // lines before the header (or the first row)
  bool header = true;                  // the first line after skip_lines names the columns
  std::vector<std::string> names;      // header: false: the column names, in file order
  std::string label = "label";         // the target column
  std::vector<std::string> numeric;    // declared numeric (others: detected)
  std::vector<std::string> categorical;  // declared categorical
  std::vector<std::string> ignore;     // not features
  std::string missing = "error";       // error mean most_frequent constant
  std::vector<std::string> missing_rules;  // "COLUMN=RULE" overrides; RULE constant:VALUE for a constant
  std::string fill_value = "0";        // missing: constant
  std::vector<std::string> missing_values{"NA"};  // fields that mean "missing", besides an empty one
  double validation_fraction = 0.1;
  double test_fraction = 0.2;
  uint64_t split_seed = 1;
};

struct DatasetConfig {
  std::string name = "mnist";          // mnist fashion_mnist idx csv (idx: no download source)
  std::string path;                    // directory holding the IDX files
  bool download = true;                // fetch missing files from `mirrors`
  std::vector<std::string> mirrors;    // default: the dataset's public mirrors
  double scale = 1.0 / 255.0;          // pixel -> float multiplier
  int64_t num_classes = 10;
  SplitConfig train{"train", 0, 55000};
  SplitConfig validation{"train", 55000, 5000};
  SplitConfig test{"t10k", 0, -1};
  CsvConfig csv;                       // name: csv
};

struct LossConfig {
  std::string type = "softmax_cross_entropy";  // loss registry key
  double label_smoothing = 0.0;        // softmax_cross_entropy
  double delta = 1.0;                  // huber
};

// Keras' EarlyStopping: an epoch improves when its `monitor` value beats the
// best so far by more than min_delta (lower for a loss, higher for accuracy).
struct EarlyStoppingConfig {
  int64_t patience = 0;                // epochs without improvement before training stops; 0: off
  std::string monitor = "validation_loss";  // validation_loss validation_accuracy; also train.keep: best's
  double min_delta = 0.0;
};

struct TrainConfig {
  int64_t epochs = 50;
  int64_t batch_size = 100;
  bool shuffle = true;
  int64_t threads = 0;                 // 0: OMP_NUM_THREADS, else the machine's cores
  std::string on_nan = "stop";         // stop skip_batch
  int64_t checkpoint_every = 0;        // epochs; 0: never
  EarlyStoppingConfig early_stopping;
  std::string keep = "last";           // last best: whose weights evaluate and export see
};

struct EvaluateConfig {
  std::vector<std::string> metrics{"accuracy", "loss"};  // accuracy loss
  int64_t batch_size = 1000;
};

struct SignatureIoConfig {
  std::string key;                     // TensorInfo map key
  std::string dtype;                   // float string
  std::vector<int64_t> shape;          // -1: unknown
};

struct SignatureConfig {
  std::string name;                    // signature_def map key
  std::string method;                  // predict classify regress
  std::string input_key = "inputs";
  std::string output_key = "outputs";  // predict / regress output key
  std::string feature = "x";           // classify / regress: tf.Example float feature name
  int64_t top_k = 0;                   // classify: 0 means all classes
};

struct ExportConfig {
  std::string path;                    // model base path; versions are its integer subdirectories
  std::string version = "auto";        // auto or a positive integer
  bool overwrite = false;
  std::string variables = "checkpoint";  // checkpoint frozen
  std::vector<std::string> class_names;  // default "0".."num_classes-1"
  std::vector<SignatureConfig> signatures;  // default: predict_images + serving_default
  bool warmup = false;
};

struct PipelineConfig {
  std::string source_path;             // the YAML file this came from
  // Where each key present in the file or an override came from, as config
  // errors name it ("FILE:LINE:COL" or "<override 'KEY=VALUE'>"), so that a
  // check that can only run later (against the machine or the filesystem)
  // still points at the line to change. ConfigErrorAt (config/loader.h).
  std::map<std::string, std::string> origins;
  std::string name = "pipeline";
  uint64_t seed = 0;
  std::string output_dir = "runs";     // run directory root: <output_dir>/<name>
  DatasetConfig dataset;
  ModelConfig model;
  LossConfig loss;
  OptimizerConfig optimizer;
  TrainConfig train;
  EvaluateConfig evaluate;
  ExportConfig export_;                // YAML key: export
  std::vector<std::string> stages{"load", "build", "train", "evaluate", "export"};
};

}  // namespace pipeline
