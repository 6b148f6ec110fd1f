// TensorFlow's tensor names in a GraphDef: "node" (= "node:0"), "node:k" (the
// k-th output) and "^node" (a control dependency).
#pragma once

#include <string>

namespace pipeline {

struct TensorName {
  std::string node;
  int index = 0;
  bool control = false;  // "^node"
};
// Parses "node", "node:k" or "^node"; false for an empty or malformed name.
bool ParseTensorName(const std::string& s, TensorName* out);

}  // namespace pipeline
