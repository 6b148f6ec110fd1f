// The one strict JSON reader (common/json_value.h) and the writer's UTF-8
// repair (common/json.h), with hand-written expectations.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "common/json.h"
#include "common/json_value.h"
#include "common/utf8.h"

using pipeline::JsonParseOptions;
using pipeline::JsonValue;
using pipeline::ParseJson;

namespace {

// The error message of parsing `text`, "" if it parses.
std::string ErrorOf(const std::string& text, const JsonParseOptions& options = {}) {
  JsonValue v;
  pipeline::Status st = ParseJson(text, &v, options);
  return st.ok() ? "" : st.message();
}

}  // namespace

TEST_CASE("json: strict RFC 8259 grammar") {
  JsonValue v;
  REQUIRE(ParseJson(" {\"a\": [1, -0.5e+2, true, false, null, \"\\u00e9\\ud83d\\ude00\\/\"]}\r\n", &v).ok());
  CHECK(v["a"][0].number() == 1);
  CHECK(v["a"][1].number() == -50);
  CHECK(v["a"][5].str() == "\xc3\xa9\xf0\x9f\x98\x80/");
  CHECK(v["a"][1].offset() == 11);
  CHECK(ErrorOf("") == "invalid JSON at byte offset 0: the document is empty");
  CHECK(ErrorOf("[01]") == "invalid JSON at byte offset 1: a number cannot have a leading zero");
  CHECK(ErrorOf("[1.]") == "invalid JSON at byte offset 3: a digit must follow the decimal point");
  CHECK(ErrorOf("[+1]") == "invalid JSON at byte offset 1: unexpected '+'");
  CHECK(ErrorOf("[.5]") == "invalid JSON at byte offset 1: unexpected '.'");
  CHECK(ErrorOf("[1,]") == "invalid JSON at byte offset 3: unexpected ']'");
  CHECK(ErrorOf("{\"a\":1,}") == "invalid JSON at byte offset 7: expected a \"key\"");
  CHECK(ErrorOf("{'a':1}") == "invalid JSON at byte offset 1: expected a \"key\"");
  CHECK(ErrorOf("[1] x") == "invalid JSON at byte offset 4: unexpected 'x' after the JSON value");
  CHECK(ErrorOf("[\"a\tb\"]") == "invalid JSON at byte offset 3: raw control character 0x09 in a string (escape it)");
  CHECK(ErrorOf("[\"\\x\"]") == "invalid JSON at byte offset 2: invalid escape \\x");
  CHECK(ErrorOf("[\"\\u12G4\"]") == "invalid JSON at byte offset 6: \\u needs 4 hex digits, got 'G'");
  CHECK(ErrorOf("[\"\\ud800\"]") == "invalid JSON at byte offset 2: high surrogate not followed by a \\u low surrogate");
  CHECK(ErrorOf("[\"\\udc00\"]") == "invalid JSON at byte offset 2: lone low surrogate in a \\u escape");
  CHECK(ErrorOf("[\"abc") == "invalid JSON at byte offset 1: unterminated string");
  CHECK(ErrorOf("[\x0c" "1]") == "invalid JSON at byte offset 1: unexpected 0x0c");  // form feed is not whitespace
  CHECK(ErrorOf("\xef\xbb\xbf[1]").empty());  // a UTF-8 byte-order mark is skipped (RFC 8259 8.1)
}

TEST_CASE("json: duplicate keys and depth and invalid UTF-8 are refused") {
  CHECK(ErrorOf("{\"a\": 1, \"b\": {\"a\": 2}, \"a\": 3}") ==
        "invalid JSON at byte offset 24: duplicate key \"a\" (first at byte offset 1)");
  CHECK(ErrorOf("{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}").empty());  // same key in different objects is fine
  CHECK(ErrorOf(std::string(128, '[') + std::string(128, ']')).empty());
  CHECK(ErrorOf(std::string(129, '[') + std::string(129, ']')) ==
        "invalid JSON at byte offset 128: nested deeper than 128 arrays/objects");
  JsonParseOptions shallow;
  shallow.max_depth = 2;
  CHECK(ErrorOf("[[[]]]", shallow) == "invalid JSON at byte offset 2: nested deeper than 2 arrays/objects");
  CHECK(ErrorOf("[\"\xff\"]") == "invalid JSON at byte offset 2: invalid UTF-8 byte 0xff in a string");
  CHECK(ErrorOf("[\"\xc0\xaf\"]") == "invalid JSON at byte offset 2: invalid UTF-8 byte 0xc0 in a string");  // overlong '/'
  CHECK(ErrorOf("[\"\xed\xa0\x80\"]") == "invalid JSON at byte offset 2: invalid UTF-8 byte 0xed in a string");  // surrogate
  CHECK(ErrorOf("[\"\xf0\x9f\x98\x80\"]").empty());
}

TEST_CASE("json: numbers beyond a double are refused and NaN and Infinity only pass in TF Serving mode") {
  CHECK(ErrorOf("[1e999]") == "invalid JSON at byte offset 1: number 1e999 is out of the range of a double (max ~1.8e308)");
  CHECK(ErrorOf("[-1e999]") ==
        "invalid JSON at byte offset 1: number -1e999 is out of the range of a double (max ~1.8e308)");
  JsonValue v;
  REQUIRE(ParseJson("[1e-999, 1.7976931348623157e308]", &v).ok());
  CHECK(v[0].number() == 0.0);  // underflow rounds, as strtod does
  CHECK(v[1].number() == 1.7976931348623157e308);
  CHECK(ErrorOf("[NaN]") == "invalid JSON at byte offset 1: NaN and Infinity are not JSON numbers (write null, or a string)");
  CHECK(ErrorOf("[-Infinity]") ==
        "invalid JSON at byte offset 1: NaN and Infinity are not JSON numbers (write null, or a string)");
  JsonParseOptions tf;
  tf.allow_non_finite = true;
  REQUIRE(ParseJson("[NaN, -NaN, Infinity, -Infinity, Inf, -Inf]", &v, tf).ok());
  CHECK(std::isnan(v[0].number()));
  CHECK(std::isnan(v[1].number()));
  CHECK(v[2].number() == INFINITY);
  CHECK(v[3].number() == -INFINITY);
  CHECK(v[4].number() == INFINITY);
  CHECK(v[5].number() == -INFINITY);
  CHECK(ErrorOf("[nan]", tf) == "invalid JSON at byte offset 1: unexpected 'n'");  // RapidJSON's spelling only
  CHECK(ErrorOf("[1e999]", tf) ==
        "invalid JSON at byte offset 1: number 1e999 is out of the range of a double (max ~1.8e308)");
}

TEST_CASE("json: the writer never emits invalid UTF-8") {
  CHECK(pipeline::json::Quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(pipeline::json::Quote("a\xff" "b") == "\"a\xef\xbf\xbd" "b\"");
  // One U+FFFD per maximal ill-formed subpart (Unicode 15 section 3.9):
  // E1 80 is a truncated 3-byte sequence (one), 80 a stray continuation (one).
  CHECK(pipeline::utf8::ReplaceInvalid("\xe1\x80" "x\x80") == "\xef\xbf\xbd" "x\xef\xbf\xbd");
  CHECK(pipeline::utf8::ReplaceInvalid("\xf4\x90\x80\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(pipeline::utf8::FirstInvalid("ok\xc3") == 2);
  // Whatever bytes go in, what comes out parses strictly.
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  JsonValue v;
  CHECK(ParseJson(pipeline::json::Object().Str(all, all).str(), &v).ok());
}
