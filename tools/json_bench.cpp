// Throwaway-grade benchmark behind the JSON library choice (docs/performance.md):
// a TF-Serving-style predict request {"instances": [[784 floats] x 100]} parsed
// into float rows, and a response {"predictions": [[10 floats] x 100]} written,
// by each Debian candidate and by our reader/writer. Not part of the build:
//   g++ -O2 -std=c++20 -I. tools/json_bench.cpp common/json_value.cpp common/json.cpp \
//       common/utf8.cpp common/files.cpp common/status.cpp -lsimdjson -lfmt -o /tmp/json_bench
//   /tmp/json_bench [repeats]
// (apt-get install rapidjson-dev nlohmann-json3-dev libsimdjson-dev). With
// -DOLD_READER=<dir> -I<dir> it also times the hand-written reader kept in <dir>/oldjson.
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include "common/json.h"
#include "common/json_value.h"
#ifdef OLD_READER
#include "oldjson/json_value.h"
#endif

namespace {

using Rows = std::vector<std::vector<float>>;

double Millis(const std::function<void()>& f, int repeats) {
  f();  // warm
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

template <typename V>
Rows FromTree(const V& doc) {
  Rows rows;
  for (const auto& row : doc["instances"].items()) {
    auto& out = rows.emplace_back();
    for (const auto& x : row.items()) out.push_back(static_cast<float>(x.number()));
  }
  return rows;
}

// RapidJSON SAX straight into rows: what a server's hot path can do.
struct RowsHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RowsHandler> {
  Rows* rows;
  int depth = 0;
  bool StartArray() {
    if (++depth == 2) rows->emplace_back();
    return true;
  }
  bool EndArray(rapidjson::SizeType) { --depth; return true; }
  bool Double(double d) { rows->back().push_back(static_cast<float>(d)); return true; }
  bool Int(int i) { return Double(i); }
  bool Uint(unsigned u) { return Double(u); }
  bool Int64(int64_t i) { return Double(static_cast<double>(i)); }
  bool Uint64(uint64_t u) { return Double(static_cast<double>(u)); }
  bool Default() { return true; }
};

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 20;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::string request = "{\"instances\": [";
  for (int r = 0; r < 100; ++r) {
    request += r ? ", [" : "[";
    for (int c = 0; c < 784; ++c) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.9g", c ? ", " : "", u(rng));
      request += buf;
    }
    request += "]";
  }
  request += "]}";
  Rows predictions(100, std::vector<float>(10));
  for (auto& row : predictions)
    for (float& x : row) x = u(rng);
  std::printf("request: %zu bytes, 78400 numbers; response 100 x 10; best of %d runs\n", request.size(), repeats);

  size_t sink = 0;
  auto report = [&](const char* what, double ms) { std::printf("  %-46s %8.3f ms\n", what, ms); };
  std::printf("parse the request into float rows:\n");
#ifdef OLD_READER
  report("hand-written reader (before), JsonValue tree", Millis([&] {
    pipeline::old::JsonValue v;
    (void)pipeline::old::ParseJson(request, &v);
    sink += FromTree(v).size();
  }, repeats));
#endif
  report("ParseJson (RapidJSON SAX + checks), JsonValue", Millis([&] {
    pipeline::JsonValue v;
    (void)pipeline::ParseJson(request, &v);
    sink += FromTree(v).size();
  }, repeats));
  report("RapidJSON SAX -> rows (no checks)", Millis([&] {
    Rows rows;
    RowsHandler h;
    h.rows = &rows;
    rapidjson::Reader reader;
    rapidjson::StringStream ss(request.c_str());
    reader.Parse<rapidjson::kParseNanAndInfFlag>(ss, h);
    sink += rows.size();
  }, repeats));
  report("RapidJSON Document (DOM)", Millis([&] {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseNanAndInfFlag>(request.c_str(), request.size());
    Rows rows;
    for (const auto& row : d["instances"].GetArray()) {
      auto& out = rows.emplace_back();
      for (const auto& x : row.GetArray()) out.push_back(x.GetFloat());
    }
    sink += rows.size();
  }, repeats));
  report("nlohmann::json::parse", Millis([&] {
    const auto j = nlohmann::json::parse(request);
    Rows rows;
    for (const auto& row : j["instances"]) {
      auto& out = rows.emplace_back();
      for (const auto& x : row) out.push_back(x.get<float>());
    }
    sink += rows.size();
  }, repeats));
  simdjson::padded_string padded(request);
  simdjson::ondemand::parser parser;
  report("simdjson on-demand", Millis([&] {
    auto doc = parser.iterate(padded);
    Rows rows;
    for (auto row : doc["instances"].get_array()) {
      auto& out = rows.emplace_back();
      for (double x : row.get_array()) out.push_back(static_cast<float>(x));
    }
    sink += rows.size();
  }, repeats));

  std::printf("write the response:\n");
  report("json::Writer (RapidJSON Writer, our numbers)", Millis([&] {
    pipeline::json::Writer w;
    w.StartObject().Key("predictions").StartArray();
    for (const auto& row : predictions) {
      w.StartArray();
      for (float x : row) w.Number(x);
      w.EndArray();
    }
    w.EndArray().EndObject();
    sink += w.str().size();
  }, repeats * 20));
  report("RapidJSON Writer, its own dtoa", Millis([&] {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("predictions");
    w.StartArray();
    for (const auto& row : predictions) {
      w.StartArray();
      for (float x : row) w.Double(x);
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    sink += b.GetSize();
  }, repeats * 20));
  report("nlohmann::json dump", Millis([&] {
    nlohmann::json j;
    j["predictions"] = predictions;
    sink += j.dump().size();
  }, repeats * 20));
  std::printf("(sink %zu)\n", sink);
}
