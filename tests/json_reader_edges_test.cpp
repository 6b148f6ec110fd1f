// The JSON reader on RapidJSON (common/json_value.cpp) keeps the messages and
// offsets of the hand-written reader it replaced. These cases come from a
// differential run of the two readers over mutated inputs: where RapidJSON's
// own view differs (a NUL byte read as the end of the text, "NaN.5" and
// "NInf" read as numbers, a lone \udc00 decoded, 1e999 reported at the
// exponent), the expectations are what the old reader said.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "common/json.h"
#include "common/json_value.h"

using pipeline::JsonParseOptions;
using pipeline::JsonValue;
using pipeline::ParseJson;

namespace {

std::string ErrorOf(const std::string& text, bool tf = false) {
  JsonParseOptions options;
  options.allow_non_finite = tf;
  JsonValue v;
  pipeline::Status st = ParseJson(text, &v, options);
  return st.ok() ? "" : st.message();
}

}  // namespace

TEST_CASE("json: a NUL byte is text and not the end of it") {
  CHECK(ErrorOf(std::string("\0", 1)) == "invalid JSON at byte offset 0: unexpected 0x00");
  CHECK(ErrorOf(std::string("[1]\0", 4)) == "invalid JSON at byte offset 3: unexpected 0x00 after the JSON value");
  CHECK(ErrorOf(std::string("[\"a\0\"]", 6)) ==
        "invalid JSON at byte offset 3: raw control character 0x00 in a string (escape it)");
  CHECK(ErrorOf(std::string("[1,\0]", 5)) == "invalid JSON at byte offset 3: unexpected 0x00");
}

TEST_CASE("json: where a separator is the unexpected token it is named") {
  CHECK(ErrorOf("[,1]") == "invalid JSON at byte offset 1: unexpected ','");
  CHECK(ErrorOf(",") == "invalid JSON at byte offset 0: unexpected ','");
  CHECK(ErrorOf("{\"a\":,}") == "invalid JSON at byte offset 5: unexpected ','");
  CHECK(ErrorOf("{\"a\" 1}") == "invalid JSON at byte offset 5: expected ':' after the key");
  CHECK(ErrorOf("[1 2]") == "invalid JSON at byte offset 3: expected ',' or ']'");
  CHECK(ErrorOf("{\"a\": 1 2}") == "invalid JSON at byte offset 8: expected ',' or '}'");
  CHECK(ErrorOf("[-01]") == "invalid JSON at byte offset 2: a number cannot have a leading zero");
  CHECK(ErrorOf("00") == "invalid JSON at byte offset 0: a number cannot have a leading zero");
  CHECK(ErrorOf("[tru]") == "invalid JSON at byte offset 1: unexpected 't'");
  CHECK(ErrorOf("[-]") == "invalid JSON at byte offset 1: unexpected ']'");
  CHECK(ErrorOf("[1e]") == "invalid JSON at byte offset 3: a digit must follow the exponent");
  CHECK(ErrorOf("[") == "invalid JSON at byte offset 1: unexpected end of the text");
}

TEST_CASE("json: NaN and Infinity in TF Serving mode are words and not number prefixes") {
  CHECK(ErrorOf("[NaN.5]", true) == "invalid JSON at byte offset 4: expected ',' or ']'");
  CHECK(ErrorOf("[-Inf1]", true) == "invalid JSON at byte offset 5: expected ',' or ']'");
  CHECK(ErrorOf("[Infe]", true) == "invalid JSON at byte offset 4: expected ',' or ']'");
  CHECK(ErrorOf("[Infi]", true) == "invalid JSON at byte offset 4: expected ',' or ']'");
  CHECK(ErrorOf("[NInf]", true) == "invalid JSON at byte offset 1: unexpected 'N'");
  CHECK(ErrorOf("[-NaInf]", true) == "invalid JSON at byte offset 1: unexpected 'N'");
  CHECK(ErrorOf("[Na]", true) == "invalid JSON at byte offset 1: unexpected 'N'");
  CHECK(ErrorOf("Infinity", true).empty());
}

TEST_CASE("json: escapes are checked in order in both halves of a pair") {
  CHECK(ErrorOf("[\"\\ud800\\u12G4\"]") == "invalid JSON at byte offset 12: \\u needs 4 hex digits, got 'G'");
  CHECK(ErrorOf("[\"\\ud800\\u0041\"]") == "invalid JSON at byte offset 2: high surrogate not followed by a low surrogate");
  CHECK(ErrorOf("[\"\\u12") == "invalid JSON at byte offset 4: \\u needs 4 hex digits");
  CHECK(ErrorOf("[\"\\udc00\xff\"]") == "invalid JSON at byte offset 2: lone low surrogate in a \\u escape");
  CHECK(ErrorOf("{\"\\ud83d\\ude00\\udfff\": 1}") == "invalid JSON at byte offset 14: lone low surrogate in a \\u escape");
  CHECK(ErrorOf("[\"\\") == "invalid JSON at byte offset 1: unterminated string");
  CHECK(ErrorOf("[\"a\x1f\"]") == "invalid JSON at byte offset 3: raw control character 0x1f in a string (escape it)");
}

TEST_CASE("json: duplicate keys in a large object and numbers at the edge of a double") {
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  CHECK(ErrorOf(big + "\"k7\": 0}") == "invalid JSON at byte offset " + std::to_string(big.size()) +
                                          ": duplicate key \"k7\" (first at byte offset 64)");
  CHECK(ErrorOf(big + "\"k40\": 0}").empty());
  CHECK(ErrorOf("[1e3081e5]") == "invalid JSON at byte offset 1: number 1e3081 is out of the range of a double (max ~1.8e308)");
  CHECK(ErrorOf("[10e308]") == "invalid JSON at byte offset 1: number 10e308 is out of the range of a double (max ~1.8e308)");
  JsonValue v;
  REQUIRE(ParseJson("[0.1, 2.2250738585072014e-308, 4.9e-324, 123456789012345678901234567890]", &v).ok());
  CHECK(v[0].number() == 0.1);
  CHECK(v[1].number() == 2.2250738585072014e-308);
  CHECK(v[2].number() == 4.9e-324);
  CHECK(v[3].number() == 123456789012345678901234567890.0);
  CHECK(v[3].offset() == 41);
}

TEST_CASE("json: the writer keeps the pipeline's layout and number form on RapidJSON") {
  pipeline::json::Writer w;
  w.StartObject().Key("a").StartArray().Number(1).Number(2.5).Number(1e-07).Number(100).Number(0.1f).EndArray();
  w.Key("b").Null().Key("c").Bool(true).Key("d").Int(-3).Key("e").StartObject().EndObject();
  w.Key("f").StartArray().EndArray().Key("g").Raw("{\"x\": 1}").Key("h").Number(NAN).EndObject();
  CHECK(w.str() ==
        "{\"a\": [1, 2.5, 1e-07, 100, 0.10000000149011612], \"b\": null, \"c\": true, \"d\": -3, \"e\": {}, \"f\": [], "
        "\"g\": {\"x\": 1}, \"h\": null}");
  CHECK(pipeline::json::Object().Str("k", "v").Int("n", 2).str() == "{\"k\": \"v\", \"n\": 2}");
  CHECK(pipeline::json::Array({"1", "\"a\""}) == "[1, \"a\"]");
  // RapidJSON's escapes: the short forms where JSON has them, else \u00XX.
  CHECK(pipeline::json::Quote(std::string("q\"\\/\b\f\n\r\t\x01\x1f", 11)) == "\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\"");
}
