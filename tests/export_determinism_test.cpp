// The exporter is deterministic: the same trained tensors give the same bytes
// (saved_model.pb's map fields - NodeDef attrs, signature_def, collection_def,
// TensorInfo maps - are written in key order, tfformat/deterministic_bytes.h).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "export/export.h"
#include "tests/support/export_testing.h"

namespace fs = std::filesystem;
using namespace pipeline;
using namespace pipeline::export_testing;

namespace {

// relative path -> bytes of every regular file under `dir`.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    files[fs::relative(e.path(), dir).string()] = bytes.str();
  }
  return files;
}

}  // namespace

TEST_CASE("export: the same trained tensors exported twice give byte-identical saved_model.pb and variables/") {
  ScratchDir dir;
  for (const char* variables : {"checkpoint", "frozen"}) {
    CAPTURE(variables);
    std::map<std::string, std::string> first;
    for (int run = 0; run < 2; ++run) {
      // Two requests built apart, so nothing is shared between the exports
      // but the tensors' values.
      auto m = MakeModel({12, 7, 5, 3}, dir / (std::string(variables) + "_" + std::to_string(run)));
      m->request.options.variables = variables;
      m->request.options.warmup = true;
      ExportSignature top2{"top2", "classify"};
      top2.top_k = 2;
      m->request.options.signatures.push_back(top2);
      ExportResult r;
      REQUIRE(ExportSavedModel(m->request, &r).ok());
      std::map<std::string, std::string> files = Files(r.version_dir);
      REQUIRE(files.count("saved_model.pb") == 1);
      if (std::string(variables) == "checkpoint") {
        REQUIRE(files.count("variables/variables.index") == 1);
        REQUIRE(files.count("variables/variables.data-00000-of-00001") == 1);
      }
      if (run == 0) {
        first = files;
        continue;
      }
      REQUIRE(files.size() == first.size());
      int compared = 0;
      for (const auto& [name_binding, bytes] : first) {
        const std::string& name = name_binding;  // clang 14: doctest's macros cannot capture a binding
        CAPTURE(name);
        REQUIRE(files.count(name) == 1);
        CHECK(files[name] == bytes);
        ++compared;
      }
      CHECK(compared >= (std::string(variables) == "checkpoint" ? 4 : 2));  // pb, warmup (+ index, data)
    }
  }
}
