// The input of a CSV model's graph: serialized tf.Examples with one feature
// per column, encoded in the graph exactly as data/csv_dataset.cpp encoded
// the training rows, into the features node the first layer reads.
#pragma once

#include <string>
#include <vector>

#include "export/export_request.h"
#include "export/graph_builder.h"

namespace pipeline::savedmodel {

// Node a predict signature feeds for column `index` (its raw value, [-1]).
std::string ColumnNode(size_t index);

// What is wrong with the columns against `input_features`, "" when nothing.
std::string CheckColumns(const std::vector<ExportedColumn>& columns, int64_t input_features);

// Adds, for the batch of serialized tf.Examples at `example_input`:
//   ParseExample: one dense scalar feature per column (float numeric, bytes
//     categorical), defaulting to the column's fill, or required without one;
//   column_<i>: Identity of that feature (a predict signature feeds it);
//   numeric: (x - mean) / stddev, ExpandDims to [-1, 1];
//   categorical: a string -> index HashTableV2 over the vocabulary (missing
//     tokens map to the fill's index), LookupTableFindV2 with the
//     out-of-vocabulary index as default, OneHot to [-1, width];
//   `features_node`: ConcatV2 of the columns' blocks along axis 1.
// Returns the table initializers.
std::vector<std::string> AddTabularInput(GraphBuilder& g, const std::vector<ExportedColumn>& columns,
                                         const std::string& example_input, const std::string& features_node);

}  // namespace pipeline::savedmodel
