// The model server's lifecycle (server/model_manager.h) and REST routing
// (server/rest_api.h), on copies of TF Serving's half_plus_two golden:
// y = 0.5 x + 2, so every answer is computed by hand.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "server/metrics.h"
#include "server/model_manager.h"
#include "server/rest_api.h"
#include "support/fixtures.h"
#include "support/scratch_dir.h"

using namespace pipeline;
using namespace pipeline::server;
namespace fs = std::filesystem;
using tensorflow::serving::ModelVersionStatus;

namespace {

const std::string kGolden = "golden/saved_model_half_plus_two_cpu/00000123";

void Publish(const fs::path& base, int64_t version) {
  fs::create_directories(base);
  fs::copy(pipeline::test::Fixture(kGolden), base / std::to_string(version), fs::copy_options::recursive);
}

void PublishCorrupt(const fs::path& base, int64_t version) {
  fs::create_directories(base / std::to_string(version));
  std::ofstream(base / std::to_string(version) / "saved_model.pb") << "not a protobuf";
}

tensorflow::serving::ModelConfigList OneModel(const std::string& base, const std::string& policy_text = "") {
  tensorflow::serving::ModelConfigList list;
  std::string text = "model_config_list { config { name: \"m\" base_path: \"" + base +
                     "\" model_platform: \"tensorflow\" " + policy_text + " } }";
  Status st = ParseModelConfigText(text, "test.config", &list);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return list;
}

tensorflow::serving::ModelSpec Spec(const std::string& name, int64_t version = -1, const std::string& label = "") {
  tensorflow::serving::ModelSpec spec;
  spec.set_name(name);
  if (version >= 0) spec.mutable_version()->set_value(version);
  if (!label.empty()) spec.set_version_label(label);
  return spec;
}

// version -> state, newest first, as GetStatus reports them.
std::vector<std::pair<int64_t, int>> States(const ModelManager& m, const std::string& name = "m") {
  tensorflow::serving::GetModelStatusResponse r;
  std::vector<std::pair<int64_t, int>> out;
  if (!m.GetStatus(Spec(name), &r).ok()) return out;
  for (const auto& s : r.model_version_status()) out.emplace_back(s.version(), s.state());
  return out;
}

int64_t ServedVersion(const ModelManager& m, const tensorflow::serving::ModelSpec& spec) {
  std::shared_ptr<serving::Servable> s;
  return m.Find(spec, &s).ok() ? s->version() : -1;
}

ModelManagerOptions NoPolling() {
  ModelManagerOptions o;
  o.file_system_poll_wait_seconds = 0;  // the tests poll by hand
  return o;
}

// One request through the REST handler, as the transport would hand it over.
HttpResponse Call(RestApi& api, const std::string& method, const std::string& target, const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.target = target;
  req.path = target.substr(0, target.find('?'));
  req.body = body;
  HttpResponse resp;
  api.Handle(req, &resp);
  return resp;
}

constexpr int kAvailable = ModelVersionStatus::AVAILABLE;
constexpr int kEnd = ModelVersionStatus::END;

}  // namespace

TEST_CASE("server manager: the newest version serves and a new one replaces it after it loads") {
  pipeline::test::ScopedTempDir dir("manager");
  const fs::path base = dir.path / "m";
  Publish(base, 1);
  fs::create_directories(base / ".tmp-2-999");  // an export in progress is never a version
  fs::create_directories(base / "abc");
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel(base.string())).ok());
  CHECK(ServedVersion(m, Spec("m")) == 1);
  CHECK(States(m) == std::vector<std::pair<int64_t, int>>{{1, kAvailable}});

  Publish(base, 2);
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == 2);
  CHECK(ServedVersion(m, Spec("m", 1)) == -1);  // latest{1}: the old version unloaded
  CHECK(States(m) == std::vector<std::pair<int64_t, int>>{{2, kAvailable}, {1, kEnd}});
}

TEST_CASE("server manager: a version that fails to load leaves the previous one serving and says why") {
  pipeline::test::ScopedTempDir dir("manager");
  const fs::path base = dir.path / "m";
  Publish(base, 1);
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel(base.string())).ok());
  PublishCorrupt(base, 2);
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == 1);
  tensorflow::serving::GetModelStatusResponse r;
  REQUIRE(m.GetStatus(Spec("m", 2), &r).ok());
  REQUIRE(r.model_version_status_size() == 1);
  CHECK(r.model_version_status(0).state() == kEnd);
  CHECK(r.model_version_status(0).status().error_code() != tensorflow::error::OK);
  CHECK(r.model_version_status(0).status().error_message().find("saved_model.pb") != std::string::npos);
  // Polling again does not retry the broken directory; replacing it does.
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == 1);
  fs::remove_all(base / "2");
  m.PollNow();
  Publish(base, 2);
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == 2);
}

TEST_CASE("server manager: a removed directory unloads its version and the policy falls back") {
  pipeline::test::ScopedTempDir dir("manager");
  const fs::path base = dir.path / "m";
  Publish(base, 1);
  Publish(base, 2);
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel(base.string())).ok());
  CHECK(ServedVersion(m, Spec("m")) == 2);
  std::shared_ptr<serving::Servable> held;
  REQUIRE(m.Find(Spec("m"), &held).ok());
  fs::remove_all(base / "2");
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == 1);
  CHECK(held->version() == 2);  // a request in flight keeps its servable
  fs::remove_all(base / "1");
  m.PollNow();
  CHECK(ServedVersion(m, Spec("m")) == -1);
  std::shared_ptr<serving::Servable> s;
  CHECK(m.Find(Spec("m"), &s).message == "Servable not found for request: Latest(m)");
}

TEST_CASE("server manager: version policies latest N and all and specific") {
  pipeline::test::ScopedTempDir dir("manager");
  const fs::path base = dir.path / "m";
  for (int v : {1, 2, 3}) Publish(base, v);
  {
    ModelManager m(NoPolling());
    REQUIRE(m.Start(OneModel(base.string(), "model_version_policy { latest { num_versions: 2 } }")).ok());
    CHECK(States(m) == std::vector<std::pair<int64_t, int>>{{3, kAvailable}, {2, kAvailable}});
  }
  {
    ModelManager m(NoPolling());
    REQUIRE(m.Start(OneModel(base.string(), "model_version_policy { all {} }")).ok());
    CHECK(States(m).size() == 3);
    CHECK(ServedVersion(m, Spec("m", 1)) == 1);
  }
  {
    ModelManager m(NoPolling());
    REQUIRE(m.Start(OneModel(base.string(), "model_version_policy { specific { versions: 1 versions: 3 } } "
                                            "version_labels { key: \"stable\" value: 1 } "
                                            "version_labels { key: \"canary\" value: 3 }"))
                .ok());
    CHECK(States(m) == std::vector<std::pair<int64_t, int>>{{3, kAvailable}, {1, kAvailable}});
    CHECK(ServedVersion(m, Spec("m", -1, "stable")) == 1);
    CHECK(ServedVersion(m, Spec("m", -1, "canary")) == 3);
    std::shared_ptr<serving::Servable> s;
    auto st = m.Find(Spec("m", -1, "beta"), &s);
    CHECK(st.code == serving::ErrorCode::kInvalidArgument);
    CHECK(st.message == "Unrecognized servable version label: beta");
    st = m.Find(Spec("m", 2), &s);
    CHECK(st.code == serving::ErrorCode::kNotFound);
    CHECK(st.message == "Servable not found for request: Specific(m, 2)");
  }
}

TEST_CASE("server manager: a reloaded config adds and removes models") {
  pipeline::test::ScopedTempDir dir("manager");
  Publish(dir.path / "a", 1);
  Publish(dir.path / "b", 7);
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel((dir.path / "a").string())).ok());
  tensorflow::serving::ModelConfigList two;
  REQUIRE(ParseModelConfigText("model_config_list { config { name: \"m\" base_path: \"" + (dir.path / "a").string() +
                                   "\" } config { name: \"b\" base_path: \"" + (dir.path / "b").string() + "\" } }",
                               "f", &two)
              .ok());
  REQUIRE(m.ReloadConfig(two).ok());
  CHECK(ServedVersion(m, Spec("b")) == 7);
  CHECK(ServedVersion(m, Spec("m")) == 1);
  tensorflow::serving::ModelConfigList only_b;
  *only_b.add_config() = two.config(1);
  REQUIRE(m.ReloadConfig(only_b).ok());
  CHECK(ServedVersion(m, Spec("m")) == -1);
  CHECK(m.ModelNames() == std::vector<std::string>{"b"});
}

TEST_CASE("server manager: config text errors name the file and the line") {
  tensorflow::serving::ModelConfigList list;
  Status st = ParseModelConfigText("model_config_list {\n  config { name: \"m\" base_pat: \"/x\" }\n}", "m.config", &list);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("m.config: line 2") != std::string::npos);
  CHECK(st.message().find("base_pat") != std::string::npos);
  st = ParseModelConfigText("model_config_list { config { name: \"m\" } }", "m.config", &list);
  CHECK(st.message() == "m.config: model 'm': no base_path");
  st = ParseModelConfigText("model_config_list { config { name: \"m\" base_path: \"/a\" } config { name: \"m\" "
                            "base_path: \"/b\" } }",
                            "m.config", &list);
  CHECK(st.message() == "m.config: model 'm': the name appears twice");
  st = ParseModelConfigText("model_config_list { config { name: \"m\" base_path: \"/a\" model_platform: \"onnx\" } }",
                            "m.config", &list);
  CHECK(st.message().find("model_platform \"onnx\" is not served") != std::string::npos);
}

TEST_CASE("server manager: a reload is checked as a config file is and keeps the models it would replace") {
  pipeline::test::ScopedTempDir dir("manager");
  const std::string base = dir / "m";
  Publish(base, 1);
  ModelManagerOptions options;
  options.file_system_poll_wait_seconds = 0;
  ModelManager m(options);
  REQUIRE(m.Start(OneModel(base)).ok());
  tensorflow::serving::ModelConfigList reload;
  auto* onnx = reload.add_config();
  onnx->set_name("m");
  onnx->set_base_path(base);
  onnx->set_model_platform("onnx");
  Status st = m.ReloadConfig(reload);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() == "model 'm': model_platform \"onnx\" is not served (allowed: \"tensorflow\")");
  onnx->set_model_platform("tensorflow");
  auto* twice = reload.add_config();
  *twice = *onnx;
  CHECK(m.ReloadConfig(reload).message() == "model 'm': the name appears twice");
  CHECK(States(m) == std::vector<std::pair<int64_t, int>>{{1, kAvailable}});  // still serving
}

TEST_CASE("server rest: paths route as TF Serving's regular expressions match them") {
  using K = RestRoute::Kind;
  struct Case {
    const char* method;
    const char* path;
    K kind;
    const char* model;
    const char* version;
    const char* label;
  };
  const Case cases[] = {
      {"POST", "/v1/models/m:predict", K::kPredict, "m", "", ""},
      {"POST", "/v1/models/m/versions/12:classify", K::kClassify, "m", "12", ""},
      {"POST", "/v1/models/m/labels/stable:regress", K::kRegress, "m", "", "stable"},
      {"POST", "/V1/Models/m/VERSIONS/3:predict", K::kPredict, "m", "3", ""},
      {"POST", "/v1/models/my%20model:predict", K::kPredict, "my model", "", ""},
      {"POST", "/v1/models/m:PREDICT", K::kMalformed, "", "", ""},  // matched, then compared exactly
      {"POST", "/v1/models/m:explain", K::kMalformed, "", "", ""},
      {"POST", "/v1/models/m/versions/x:predict", K::kMalformed, "", "", ""},
      {"POST", "/v1/models/:predict", K::kMalformed, "", "", ""},
      {"POST", "/v1/models/m", K::kMalformed, "", "", ""},
      {"GET", "/v1/models/m", K::kStatus, "m", "", ""},
      {"GET", "/v1/models/m/versions/5", K::kStatus, "m", "5", ""},
      {"GET", "/v1/models/m/labels/l", K::kStatus, "m", "", "l"},
      {"GET", "/v1/models/m/metadata", K::kMetadata, "m", "", ""},
      {"GET", "/v1/models/m/versions/5/metadata", K::kMetadata, "m", "5", ""},
      {"GET", "/v1/models/m/METADATA", K::kStatus, "m", "", ""},  // matched (?i), then not "metadata"
      {"GET", "/v1/models", K::kStatus, "", "", ""},
      {"GET", "/v1/models/m/other", K::kMalformed, "", "", ""},
      {"GET", "/v1/models/m:predict", K::kMalformed, "", "", ""},
      {"GET", "/v2/models/m", K::kMalformed, "", "", ""},
      {"PUT", "/v1/models/m", K::kMalformed, "", "", ""},
  };
  for (const Case& c : cases) {
    RestRoute r = ParseRestRoute(c.method, c.path);
    INFO(c.method << " " << c.path);
    CHECK(r.kind == c.kind);
    if (c.kind == K::kMalformed) continue;
    CHECK(r.model == c.model);
    CHECK(r.version == c.version);
    CHECK(r.label == c.label);
  }
  CHECK(ParseRestRoute("GET", "/v1/models").missing_model);
}

TEST_CASE("server rest: status and predict and errors through the handler") {
  pipeline::test::ScopedTempDir dir("rest");
  Publish(dir.path / "m", 123);
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel((dir.path / "m").string())).ok());
  RestApi api(&m, RestApiOptions{});
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return Call(api, method, target, body);
  };
  HttpResponse r = call("GET", "/v1/models/m");
  CHECK(r.status == 200);
  CHECK(r.body ==
        "{\n \"model_version_status\": [\n  {\n   \"version\": \"123\",\n   \"state\": \"AVAILABLE\",\n   \"status\": "
        "{\n    \"error_code\": \"OK\",\n    \"error_message\": \"\"\n   }\n  }\n ]\n}\n");
  r = call("POST", "/v1/models/m:predict", "{\"instances\": [1.0, 2.0, 5.0]}");
  CHECK(r.status == 200);
  CHECK(r.body == "{\n    \"predictions\": [2.5, 3.0, 4.5\n    ]\n}");
  r = call("POST", "/v1/models/m/versions/123:predict?x=1", "{\"inputs\": [[4.0]]}");
  CHECK(r.status == 200);
  CHECK(r.body.find("\"outputs\": [") != std::string::npos);
  r = call("POST", "/v1/models/m:regress", "{\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": 6.0}]}");
  CHECK(r.status == 200);
  CHECK(r.body.find("5.0") != std::string::npos);
  r = call("GET", "/v2/x");
  CHECK(r.status == 400);
  CHECK(r.body.find("Malformed request: GET /v2/x") != std::string::npos);
  r = call("POST", "/v1/models/nope:predict", "{\"instances\": [1.0]}");
  CHECK(r.status == 404);
  CHECK(r.body.find("Servable not found for request: Latest(nope)") != std::string::npos);
  r = call("POST", "/v1/models/m/versions/1/labels/x:predict", "{}");
  CHECK(r.status == 400);  // not a route: both a version and a label
  r = call("GET", "/v1/models/m/metadata");
  CHECK(r.status == 200);
  CHECK(r.body.rfind("{\n\"model_spec\":{\n \"name\": \"m\",", 0) == 0);
  CHECK(r.body.find("\"metadata\": {\"signature_def\": {\n \"signature_def\": {") != std::string::npos);
  CHECK(r.body.find("\"regress_x_to_y\"") != std::string::npos);
  for (const auto& [k, v] : r.headers) {
    if (k == "Content-Type") CHECK(v == "application/json");
  }
}

TEST_CASE("server metrics: Prometheus text counts requests and buckets their latency") {
  ServerMetrics metrics;
  metrics.Record("m", "predict", "REST", serving::ErrorCode::kOk, 5.0);     // <= 10: bucket 0
  metrics.Record("m", "predict", "REST", serving::ErrorCode::kOk, 15.0);    // <= 18: bucket 1
  metrics.Record("m", "predict", "REST", serving::ErrorCode::kNotFound, 1e12);  // above every bound
  metrics.Record("m", "classify", "GRPC", serving::ErrorCode::kOk, 10.0);   // a bound is inclusive
  const std::string text = metrics.PrometheusText();
  CHECK(text.find(":tensorflow:serving:request_count{model_name=\"m\",status=\"OK\"} 3\n") != std::string::npos);
  CHECK(text.find(":tensorflow:serving:request_count{model_name=\"m\",status=\"NOT_FOUND\"} 1\n") != std::string::npos);
  const std::string labels = "model_name=\"m\",API=\"predict\",entrypoint=\"REST\"";
  CHECK(text.find(":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"10\"} 1\n") != std::string::npos);
  CHECK(text.find(":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"18\"} 2\n") != std::string::npos);
  CHECK(text.find(":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find(":tensorflow:serving:request_latency_count{" + labels + "} 3\n") != std::string::npos);
  CHECK(text.find(":tensorflow:serving:request_latency_sum{" + labels + "} 1000000000020\n") != std::string::npos);
  CHECK(text.find("API=\"classify\",entrypoint=\"GRPC\",le=\"10\"} 1\n") != std::string::npos);
  CHECK(ServerMetrics::BucketBound(2) == doctest::Approx(32.4));
  std::string path;
  CHECK(ParseMonitoringConfigText("prometheus_config { enable: true }", "mon.config", &path).ok());
  CHECK(path == "/monitoring/prometheus/metrics");
  CHECK(ParseMonitoringConfigText("prometheus_config { enable: false path: \"/x\" }", "mon.config", &path).ok());
  CHECK(path.empty());
  Status st = ParseMonitoringConfigText("prometheus_config { enabled: true }", "mon.config", &path);
  CHECK(st.message().find("mon.config: line 1") != std::string::npos);
}

TEST_CASE("server rest: the Prometheus path and CORS preflight when enabled") {
  pipeline::test::ScopedTempDir dir("rest");
  Publish(dir.path / "m", 1);
  ModelManager m(NoPolling());
  REQUIRE(m.Start(OneModel((dir.path / "m").string())).ok());
  ServerMetrics metrics;
  RestApiOptions options;
  options.enable_cors = true;
  options.metrics = &metrics;
  options.prometheus_path = "/monitoring/prometheus/metrics";
  RestApi api(&m, options);
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return Call(api, method, target, body);
  };
  CHECK(call("POST", "/v1/models/m:predict", "{\"instances\": [1.0]}").status == 200);
  CHECK(call("POST", "/v1/models/m:predict", "{\"instances\": [\"a\"]}").status == 400);
  HttpResponse r = call("OPTIONS", "/v1/models/m:predict");
  CHECK(r.status == 200);
  bool cors = false;
  for (const auto& [k, v] : r.headers) cors |= k == "Access-Control-Allow-Origin" && v == "*";
  CHECK(cors);
  r = call("GET", "/monitoring/prometheus/metrics");
  CHECK(r.status == 200);
  CHECK(r.body.find(":tensorflow:serving:request_count{model_name=\"m\",status=\"OK\"} 1\n") != std::string::npos);
  CHECK(r.body.find(":tensorflow:serving:request_count{model_name=\"m\",status=\"INVALID_ARGUMENT\"} 1\n") !=
        std::string::npos);
}
