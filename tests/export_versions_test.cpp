// Version directories: auto numbering, refusing existing versions, overwrite,
// refusing a version dir as base path, stale temp dirs, and SIGKILL atomicity.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "common/files.h"
#include "common/version_number.h"
#include "export/export.h"
#include "tests/support/export_testing.h"
#include "tests/support/export_verify.h"
#include "export/versions.h"

namespace fs = std::filesystem;
using namespace pipeline;
using namespace pipeline::export_testing;

namespace {

std::vector<std::string> Children(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("export: version auto-numbering / explicit versions / refusing existing ones / overwrite") {
  ScratchDir dir;
  const std::string base = dir / "model";
  auto m = MakeModel({30, 8, 3}, base);
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  CHECK(r.version == 1);
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  CHECK(r.version == 2);
  CHECK(r.version_dir == base + "/2");

  // Non-numeric children are ignored; numbering continues after the largest number.
  fs::create_directory(base + "/notes");
  fs::create_directory(base + "/10");
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  CHECK(r.version == 11);
  fs::remove(base + "/10");

  // An explicit existing version is a config error, checked before training and at export.
  m->request.options.version = "2";
  CHECK(CheckExport(m->request).IsInvalidArgument());
  ExportResult r2;
  Status st = ExportSavedModel(m->request, &r2);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("already exists") != std::string::npos);
  // "007" on disk is version 7 to TF Serving.
  fs::create_directory(base + "/007");
  m->request.options.version = "7";
  CHECK(CheckExport(m->request).IsInvalidArgument());
  fs::remove(base + "/007");

  // A new explicit version is fine.
  m->request.options.version = "5";
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  CHECK(r.version == 5);

  // Overwrite replaces version 2 with the new weights.
  std::string before, after;
  REQUIRE(ReadInputFile(base + "/2/variables/variables.data-00000-of-00001", input::kBundleData, &before).ok());
  auto m2 = MakeModel({30, 8, 3}, base, 2.0f);
  m2->request.options.version = "2";
  m2->request.options.overwrite = true;
  CHECK(CheckExport(m2->request).ok());
  REQUIRE(ExportSavedModel(m2->request, &r).ok());
  CHECK(r.version == 2);
  REQUIRE(ReadInputFile(base + "/2/variables/variables.data-00000-of-00001", input::kBundleData, &after).ok());
  CHECK(before != after);
  BundleTensors t;
  REQUIRE(savedmodel::VerifyVersionDir(base + "/2", &t).ok());
  CHECK(t.at("dense_0/kernel").FloatAt(3) == m2->kernels[0][3]);
  CHECK(Children(base) == std::vector<std::string>{"1", "11", "2", "5", "notes"});
}

TEST_CASE("export: a base path holding saved_model.pb is refused") {
  ScratchDir dir;
  auto m = MakeModel({30, 8, 3}, dir / "model");
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  m->request.options.path = r.version_dir;  // the user pointed at the version dir
  CHECK(CheckExport(m->request).IsInvalidArgument());
  Status st = ExportSavedModel(m->request, &r);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("saved_model.pb") != std::string::npos);
  CHECK(Children(dir / "model/1") == std::vector<std::string>{"saved_model.pb", "variables"});
  // A file as base path is refused too.
  REQUIRE(WriteFileAtomic(dir / "file", "x").ok());
  m->request.options.path = dir / "file";
  CHECK(CheckExport(m->request).IsInvalidArgument());
}

TEST_CASE("export: stale temp dirs of dead exporters are removed / live ones kept") {
  ScratchDir dir;
  const std::string base = dir / "model";
  fs::create_directories(base);
  // A child that exits at once gives a pid that is (almost certainly) dead.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string stale = base + "/" + savedmodel::TempDirName(1, dead);
  const std::string live = base + "/" + savedmodel::TempDirName(1, getppid());
  fs::create_directories(stale + "/variables");
  fs::create_directories(live);
  auto m = MakeModel({30, 8, 3}, base);
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  CHECK(r.version == 1);  // temp dirs are not versions
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  int64_t v;
  CHECK(ParseVersionNumber("00000123", &v));
  CHECK(v == 123);
  CHECK_FALSE(ParseVersionNumber(".tmp-1-2", &v));
  CHECK_FALSE(ParseVersionNumber("99999999999999999999", &v));
  CHECK_FALSE(ParseVersionNumber("", &v));
}

TEST_CASE("export: SIGKILL at a random moment leaves no version or a complete one (50+ trials)") {
  ScratchDir dir;
  const std::string base = dir / "model";
  auto m = MakeModel({784, 256, 256, 10}, base);
  m->request.options.warmup = true;

  // Duration of one export, to spread the kills over it.
  const auto t0 = std::chrono::steady_clock::now();
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("one export takes " << us << " us");
  fs::remove_all(r.version_dir);

  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int64_t> delay(0, std::max<int64_t>(us * 3 / 2, 1));
  int completed = 0, killed_before = 0;
  const int kTrials = 60;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::map<int64_t, std::string> before;
    REQUIRE(savedmodel::ListVersions(base, &before).ok());
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ExportResult cr;
      _exit(ExportSavedModel(m->request, &cr).ok() ? 0 : 3);
    }
    usleep(static_cast<useconds_t>(delay(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 0);
    std::map<int64_t, std::string> after;
    REQUIRE(savedmodel::ListVersions(base, &after).ok());
    CHECK(after.size() - before.size() <= 1);
    for (const auto& [v_binding, name] : after) {
      const auto& v = v_binding;  // clang 14: doctest's macros cannot capture a binding
      Status st = savedmodel::VerifyVersionDir(base + "/" + name);
      CHECK_MESSAGE(st.ok(), "trial " << trial << " version " << v << ": " << st.ToString());
      std::string warm;
      CHECK(ReadInputFile(base + "/" + name + "/assets.extra/tf_serving_warmup_requests", input::kTFRecordFile, &warm).ok());
    }
    if (after.size() > before.size()) ++completed; else ++killed_before;
  }
  MESSAGE(completed << " exports completed, " << killed_before << " killed before the rename");
  // The next export cleans every temp dir the killed children left behind.
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  for (const auto& name : Children(base)) {
    int64_t v;
    CHECK_MESSAGE(ParseVersionNumber(name, &v), "left over: " << name);
  }
}
