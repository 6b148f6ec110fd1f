// Reading YAML values strictly, shared by the config validator
// (config/validate.cpp) and the sweep reader (sweep/spec.cpp): one parser per
// scalar type, and one wording for the errors both readers give, so that
// `epochs: ten` in a config and `samples: ten` in a sweep file fail alike.
//
// Scalars: "10" is an integer (no hex, no "1e3", no leading/trailing text);
// "1.5", ".5" and "1e-3" are numbers; ".nan", ".inf" and 1e999 are recognised
// only to be refused as non-finite; booleans are YAML 1.1's true/yes/on and
// false/no/off spellings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

enum class ParseResult { kOk, kBad, kOutOfRange, kNotFinite };
ParseResult ParseInt(const std::string& text, int64_t* out);
ParseResult ParseUint(const std::string& text, uint64_t* out);
ParseResult ParseFloat(const std::string& text, double* out);
bool ParseBool(const std::string& text, bool* out);
// The spellings ParseBool reads as `value` (YAML 1.1's), also given to
// editors by the JSON Schema (config/json_schema.h).
const std::vector<std::string>& YamlBoolSpellings(bool value);

// "'ten'", "a map", "a list", "an empty value": what an error says it got.
std::string DescribeYaml(const YAML::Node& node);

// "unknown key 'epochz' (did you mean 'epochs'?)", else the allowed keys.
std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string>& siblings);
// "unknown optimizer 'adm' (did you mean 'adam'? allowed: ...)": Caffe's listing.
std::string UnknownValueMessage(const std::string& noun, const std::string& value,
                                const std::vector<std::string>& allowed);
// "duplicate key 'k' (first given at line N)"; the line is left out when unknown (0).
std::string DuplicateKeyMessage(const std::string& key, int first_line);
// "'99999999999999999999' is out of range for a 64-bit integer".
std::string IntegerOutOfRangeMessage(const std::string& text);
// "must be a finite number, got '.inf'".
std::string NotFiniteMessage(const std::string& text);

}  // namespace pipeline
