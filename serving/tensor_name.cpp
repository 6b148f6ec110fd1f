#include "serving/tensor_name.h"

#include <algorithm>

namespace pipeline {

bool ParseTensorName(const std::string& s, TensorName* out) {
  TensorName t;
  std::string rest = s;
  if (!rest.empty() && rest[0] == '^') {
    t.control = true;
    rest = rest.substr(1);
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && !t.control) {
    const std::string idx = rest.substr(colon + 1);
    if (idx.empty() || idx.size() > 6 || !std::all_of(idx.begin(), idx.end(), ::isdigit)) return false;
    t.index = std::stoi(idx);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return false;
  t.node = rest;
  *out = t;
  return true;
}

}  // namespace pipeline
