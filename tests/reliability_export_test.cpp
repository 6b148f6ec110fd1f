// Issue 6, export faults: an unwritable base directory and a disk that fills
// (RLIMIT_FSIZE in a forked child) give a clear error and leave no version
// and no temporary directory behind. (SIGKILL at any moment:
// tests/export_versions_test.cpp.)
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "export/export.h"
#include "tests/support/export_testing.h"
#include "export/versions.h"
#include "tests/support/run_pipeline.h"

namespace fs = std::filesystem;
using namespace pipeline;

namespace {

struct ChildResult {
  int exit_code = -1;
  std::string message;
};

// Runs an export of a 784-256-256-10 model to `base` in a child that first
// calls `setup`; the child's status message comes back through a pipe.
template <typename Setup>
ChildResult ExportInChild(const std::string& base, Setup setup) {
  auto m = export_testing::MakeModel({784, 256, 256, 10}, base);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    setup();
    ExportResult r;
    Status st = ExportSavedModel(m->request, &r);
    const std::string msg = st.ok() ? "ok" : st.ToString();
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(st.ok() ? 0 : st.ExitCode());
  }
  close(fds[1]);
  ChildResult out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.message.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

void CheckNothingLeft(const std::string& base) {
  std::map<int64_t, std::string> versions;
  REQUIRE(savedmodel::ListVersions(base, &versions).ok());
  CHECK(versions.empty());
  if (fs::exists(base))
    for (const auto& e : fs::directory_iterator(base)) CHECK_MESSAGE(false, "left behind: " << e.path());
}

}  // namespace

TEST_CASE("reliability: export to an unwritable directory fails clearly and leaves nothing") {
  const std::string tmp = test::TempDir("rel-ro");
  const std::string base = tmp + "/model";
  fs::create_directories(base);
  chmod(tmp.c_str(), 0755);
  chmod(base.c_str(), 0555);
  ChildResult r = ExportInChild(base, [] {
    if (geteuid() == 0) {  // root ignores permission bits: become nobody first
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
    }
  });
  INFO(r.message);
  CHECK(r.exit_code == 1);
  CHECK(r.message.find(base) != std::string::npos);
  CHECK(r.message.find("Permission denied") != std::string::npos);
  CheckNothingLeft(base);
  chmod(base.c_str(), 0755);
  fs::remove_all(tmp);
}

TEST_CASE("reliability: a disk that fills during export (RLIMIT_FSIZE) fails clearly and leaves nothing") {
  const std::string tmp = test::TempDir("rel-full");
  for (rlim_t limit : {rlim_t{0}, rlim_t{4096}, rlim_t{100000}, rlim_t{900000}}) {
    CAPTURE(limit);
    const std::string base = tmp + "/model" + std::to_string(limit);
    ChildResult r = ExportInChild(base, [limit] {
      signal(SIGXFSZ, SIG_IGN);  // write(2) then fails with EFBIG, as on a full disk with ENOSPC
      struct rlimit rl{limit, limit};
      setrlimit(RLIMIT_FSIZE, &rl);
    });
    INFO(r.message);
    CHECK(r.exit_code == 1);
    CHECK(r.message.find("File too large") != std::string::npos);
    CheckNothingLeft(base);
  }
  fs::remove_all(tmp);
}

TEST_CASE("reliability: pipeline run with a full disk at export exits 1 with no version") {
  const std::string tmp = test::TempDir("rel-full-cli");
  // The shell's ulimit -f counts 1024-byte blocks: 300 KiB holds the run files, not the 1 MB variables.
  const std::string cmd = "cd " + test::ShellQuote(PIPELINE_SOURCE_DIR) + " && (trap '' XFSZ; ulimit -f 300; exec " +
                          test::ShellQuote(PIPELINE_BINARY) +
                          " run configs/fashion_mnist.yaml train.epochs=1 dataset.train.count=1000 "
                          "dataset.validation.count=0 export.path=" + tmp + "/export --run-dir " + tmp +
                          "/run) >" + tmp + "/out 2>" + tmp + "/err";
  const int status = std::system(cmd.c_str());
  const std::string err = test::Slurp(tmp + "/err");
  INFO(err);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(err.find("File too large") != std::string::npos);
  CheckNothingLeft(tmp + "/export");
  fs::remove_all(tmp);
}
