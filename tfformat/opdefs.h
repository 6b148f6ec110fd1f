// The OpDefs the exporter writes into meta_info_def.stripped_op_list.
#pragma once

#include <set>
#include <string>

#include "proto/op_def.pb.h"

namespace pipeline::savedmodel {

// Every op the exporter can emit (sorted by name), parsed once from text
// compiled into the binary.
const tensorflow::OpList& ExporterOpDefs();

// nullptr when the exporter does not know the op.
const tensorflow::OpDef* FindExporterOpDef(const std::string& name);

// The OpDefs of `used`, sorted by name, as TensorFlow's
// meta_graph.stripped_op_list_for_graph writes them.
tensorflow::OpList StrippedOpList(const std::set<std::string>& used);

}  // namespace pipeline::savedmodel
