// SavedModel version numbers, parsed in one place: the export.version key, the
// version directories of a model base path and the next `auto` version all
// follow TF Serving's rule (a version is a directory name of ASCII digits that
// fits an int64; "007" is version 7), and the arithmetic on them is checked,
// so the version after 9223372036854775807 is an error, not a negative number.
#pragma once

#include <cstdint>
#include <string>

namespace pipeline {

// True (and *version set) when `digits` is a non-empty string of ASCII digits
// whose value fits an int64.
bool ParseVersionNumber(const std::string& digits, int64_t* version);

// True when `text` is ASCII digits whose value is past the largest int64
// (why ParseVersionNumber refused it, for the error message).
bool VersionNumberTooLarge(const std::string& text);

// export.version: "auto" (or empty) gives 0, a positive version number gives
// that number; false for anything else.
bool ParseExportVersion(const std::string& text, int64_t* version);

// *next = largest + 1; false when largest is already the largest int64.
bool NextVersion(int64_t largest, int64_t* next);

}  // namespace pipeline
