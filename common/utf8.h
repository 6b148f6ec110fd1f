// UTF-8 well-formedness (Unicode 15, table 3-7), shared by the JSON reader,
// which refuses ill-formed text, and the JSON writer, which replaces it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pipeline::utf8 {

// At s[i]: the length of the well-formed sequence that starts there (1-4),
// or 0 when it is ill-formed; then *bad_length is the length of the maximal
// subpart (Unicode's "maximal subpart of an ill-formed subsequence", >= 1):
// the bytes one U+FFFD replaces under the W3C/WHATWG practice.
size_t SequenceLength(std::string_view s, size_t i, size_t* bad_length);

// The first byte offset where `s` is not well-formed UTF-8, or npos.
size_t FirstInvalid(std::string_view s);

// `s` with every maximal ill-formed subpart replaced by U+FFFD (EF BF BD).
std::string ReplaceInvalid(std::string_view s);

}  // namespace pipeline::utf8
