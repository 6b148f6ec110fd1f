#include "engine/activation.h"

#include "common/registry.h"

namespace pipeline {
namespace {

using dnnl::algorithm;

struct ActivationTag {
  static constexpr const char* kKind = "activation";
};
using ActivationRegistry = Registry<ActivationTag, Activation>;

// One line per activation; the rank is its place in the config's documented list.
PIPELINE_REGISTER(ActivationRegistry, relu, 0,
                  (Activation{"relu", false, algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd}));
PIPELINE_REGISTER(ActivationRegistry, sigmoid, 1,
                  (Activation{"sigmoid", false, algorithm::eltwise_logistic,
                              algorithm::eltwise_logistic_use_dst_for_bwd}));
PIPELINE_REGISTER(ActivationRegistry, tanh, 2,
                  (Activation{"tanh", false, algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd}));
PIPELINE_REGISTER(ActivationRegistry, linear, 3, (Activation{"linear", true, algorithm::undef, algorithm::undef}));

}  // namespace

const std::vector<std::string>& ActivationNames() {
  static const std::vector<std::string> names = ActivationRegistry::Names();
  return names;
}

bool LookupActivation(const std::string& name, Activation* out) {
  const Activation* found = ActivationRegistry::Find(name);
  if (!found) return false;
  *out = *found;
  return true;
}

}  // namespace pipeline
