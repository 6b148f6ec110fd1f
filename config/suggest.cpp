// "Did you mean" suggestions: optimal-string-alignment distance (a swap of two
// adjacent letters, as in 'rleu' for 'relu', is one edit), case-insensitive.
#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "config/internal.h"

namespace pipeline::config_internal {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t OsaDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string w = Lower(word);
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = OsaDistance(w, Lower(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best.empty()) return "";
  // A typo changes at most about a third of a word (at least one edit).
  const size_t len = std::max(w.size(), best.size());
  const size_t limit = std::max<size_t>(1, len / 3);
  if (best_distance <= limit && best_distance < len) return best;
  // A truncated word: 'learning' for 'learning_rate'.
  for (const auto& c : candidates)
    if (w.size() >= 4 && Lower(c).compare(0, w.size(), w) == 0) return c;
  return "";
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
