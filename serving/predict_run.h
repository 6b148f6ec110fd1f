// What `pipeline predict` runs over the serving API: its inputs (IDX pixels,
// tf.Examples, JSON instances: serving/json_instances.h) in batches through
// one signature of a servable, and what the batches add up to -- each
// output's dtype and total shape, the inputs whose outputs are not finite,
// every output row as JSON, and the accuracy against labels.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/json_instances.h"
#include "serving/servable.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

// IDX images (`count` images of `item_size` pixel bytes, row-major) as
// inputs, pixels scaled by 1/255: with `as_examples` each image becomes a
// serialized tf.Example with float_list feature `feature`, else a float row
// of shape [item_size]. `limit` <= 0 takes every image.
PredictInputs InputsFromPixels(const std::vector<uint8_t>& pixels, int64_t count, int64_t item_size, bool as_examples,
                               const std::string& feature, int64_t limit);

// Serialized tf.Examples (a TFRecord file's records) as inputs: the first
// `limit` (<= 0: all), those holding a non-finite float noted.
PredictInputs InputsFromExamples(std::vector<std::string> serialized, int64_t limit);

// The outputs that decide the predicted class: `scores` (else
// probabilities, logits, outputs, else the first output); for a classify
// signature also `classes`, the class string of each score.
struct ScoreOutputs {
  std::string score_alias;
  std::string class_alias;  // "" unless classify with a `classes` output
};
ScoreOutputs ChooseScoreOutputs(const tensorflow::SignatureDef& sig);

// One run's outputs: inputs [begin, begin + n). `instance`: a JSON object
// instance, which runs alone (n = 1) as each may name several inputs.
struct BatchOutputs {
  int64_t begin = 0;
  int64_t n = 0;
  bool instance = false;
  const std::map<std::string, TensorValue>* outputs = nullptr;
};

struct PredictRunOptions {
  int64_t batch = 1000;       // inputs per run (object instances run one by one)
  bool collect_rows = false;  // fill PredictSummary::rows
  // Labels aligned with the inputs (one per available input): with them the
  // summary counts the inputs predicted right (batched inputs only).
  const std::vector<uint8_t>* labels = nullptr;
};

struct PredictSummary {
  // Per output alias: dtype, and shape with dim 0 = the rows of every batch
  // (an object instance's run: that run's shape).
  std::map<std::string, TensorShape> shapes;
  std::map<std::string, tensorflow::DataType> dtypes;
  int64_t non_finite_rows = 0;  // inputs with a NaN or infinity in any numeric output
  // collect_rows: per output, one JSON array per input row, its elements
  // flattened (numbers in shortest round-trip form, NaN/Infinity as null,
  // strings quoted); outputs without a [rows, ...] shape have none.
  std::map<std::string, std::vector<std::string>> rows;
  // labels: inputs whose argmax score (or top class, for classify) matches
  // the label; a row whose scores hold NaN predicts nothing and counts wrong.
  int64_t correct = 0;
  ScoreOutputs scored_by;
};

// Runs signature `key` (restored servable) on `in`, `input_alias` fed with
// each batch, calling `on_batch` after each run has been added up and
// before its rows are scored. Errors: the run's (Servable::Run), and
// Runtime "output 'A' is not a [batch, ...] numeric tensor" when labels
// meet a score output of another shape.
Status RunPredictBatches(Servable& servable, const std::string& key, const std::string& input_alias,
                         const PredictInputs& in, const PredictRunOptions& options,
                         const std::function<void(const BatchOutputs&)>& on_batch, PredictSummary* summary);

}  // namespace pipeline::serving
