// Small string helpers shared by config errors, registries and the CLI.
#pragma once

#include <string>
#include <vector>

namespace pipeline {

std::string Join(const std::vector<std::string>& parts, const std::string& sep);

// Optimal-string-alignment distance (a swap of adjacent letters, 'rleu' for
// 'relu', is one edit), for "did you mean" suggestions.
size_t EditDistance(const std::string& a, const std::string& b);

// The candidate closest to `word`, compared case-insensitively, if it is
// plausibly a typo or a truncation ('learning' for 'learning_rate'), else "".
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pipeline
