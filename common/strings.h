// Small string helpers shared by config errors, registries and the CLI.
#pragma once

#include <string>
#include <vector>

namespace pipeline {

std::string Join(const std::vector<std::string>& parts, const std::string& sep);

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(const std::string& a, const std::string& b);

// The candidate closest to `word` if it is plausibly a typo of it, else "".
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pipeline
