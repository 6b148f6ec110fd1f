// libFuzzer target: the one strict JSON reader (common/json_value.h) in both
// modes (strict, and TF Serving's NaN/Infinity), plus the writer: whatever a
// parsed string holds, json::Quote must emit JSON the reader accepts again.
// Any Status is fine; crashes, sanitizer reports and a failed re-parse are bugs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/json_value.h"

namespace {

void CheckStringsRoundTrip(const pipeline::JsonValue& v) {
  if (v.is_string()) {
    pipeline::JsonValue back;
    if (!pipeline::ParseJson(pipeline::json::Quote(v.str()), &back).ok() || back.str() != v.str()) std::abort();
  }
  for (const auto& item : v.items()) CheckStringsRoundTrip(item);
  for (const auto& [key, item] : v.members()) CheckStringsRoundTrip(item);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return -1;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pipeline::JsonValue v;
  if (pipeline::ParseJson(text, &v).ok()) CheckStringsRoundTrip(v);
  pipeline::JsonParseOptions tf;
  tf.allow_non_finite = true;
  (void)pipeline::ParseJson(text, &v, tf);
  // Raw bytes as a string to write: the output must always parse.
  pipeline::JsonValue written;
  if (!pipeline::ParseJson(pipeline::json::Quote(std::string(text)), &written).ok()) std::abort();
  return 0;
}
