// "Did you mean" suggestions and Caffe-style listings of allowed values.

#include "common/strings.h"
#include "config/internal.h"

namespace pipeline::config_internal {
std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  return ClosestMatch(word, candidates);
}

std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string>& siblings) {
  const std::string guess = Suggest(key, siblings);
  if (!guess.empty()) return "unknown key '" + key + "' (did you mean '" + guess + "'?)";
  if (siblings.empty()) return "unknown key '" + key + "' (this value has no keys)";
  return "unknown key '" + key + "' (allowed: " + Join(siblings, ", ") + ")";
}

std::string UnknownValueMessage(const std::string& noun, const std::string& value,
                                const std::vector<std::string>& allowed) {
  const std::string guess = Suggest(value, allowed);
  std::string msg = "unknown " + noun + " '" + value + "' (";
  if (!guess.empty()) msg += "did you mean '" + guess + "'? ";
  return msg + "allowed: " + Join(allowed, ", ") + ")";
}

}  // namespace pipeline::config_internal
