#include "engine/activation.h"

namespace pipeline {

using dnnl::algorithm;

const std::vector<std::string>& ActivationNames() {
  static const std::vector<std::string> names = {"linear", "relu", "sigmoid", "tanh"};
  return names;
}

bool LookupActivation(const std::string& name, Activation* out) {
  if (name == "linear") {
    *out = {name, true, algorithm::undef, algorithm::undef};
  } else if (name == "relu") {
    *out = {name, false, algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd};
  } else if (name == "sigmoid") {
    *out = {name, false, algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd};
  } else if (name == "tanh") {
    *out = {name, false, algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd};
  } else {
    return false;
  }
  return true;
}

}  // namespace pipeline
