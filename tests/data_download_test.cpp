// Downloads from a local HTTP server (tests/support/http_server.h) serving the
// real MNIST t10k pair: checksum verification, mirror fallback, corrupted
// bytes rejected, and the needed-files message when every mirror fails.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/download.h"
#include "data/md5.h"
#include "tests/support/http_server.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using pipeline::Dataset;
using pipeline::DatasetConfig;
using pipeline::Status;
using pipeline::test::HttpServer;

namespace {

std::string Mnist() { return pipeline::test::Fixture("mnist"); }

// The suite's scoped directory, checked as it is made.
struct TempDir : pipeline::test::ScopedTempDir {
  TempDir() : ScopedTempDir("data_dl") { REQUIRE(!path.empty()); }
};

DatasetConfig T10kConfig(const std::string& path, std::vector<std::string> mirrors) {
  DatasetConfig c;
  c.name = "mnist";
  c.path = path;
  c.download = true;
  c.mirrors = std::move(mirrors);
  c.train = {"t10k", 0, 9000};
  c.validation = {"t10k", 9000, 1000};
  c.test = {"t10k", 0, -1};
  return c;
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool Has(const Status& st, const std::string& s) { return st.message().find(s) != std::string::npos; }

struct Log {
  std::vector<std::string> lines;
  pipeline::LogFn fn() {
    return [this](const std::string& line) { lines.push_back(line); };
  }
  bool Has(const std::string& s) const {
    for (const auto& l : lines)
      if (l.find(s) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("data: known checksums") {
  CHECK(pipeline::KnownMd5("mnist", "t10k-images-idx3-ubyte.gz") == "9fb629c4189551a2d022fa330f9573f3");
  CHECK(pipeline::KnownMd5("fashion_mnist", "train-labels-idx1-ubyte.gz") == "25c81989df183df01b3e8a0aad5dffbe");
  CHECK(pipeline::KnownMd5("idx", "t10k-images-idx3-ubyte.gz").empty());
  CHECK(pipeline::HumanBytes(1648877) == "1.6 MB");
  CHECK(pipeline::HumanBytes(4542) == "4.5 kB");
}

TEST_CASE("data: download the MNIST t10k pair into an empty directory / verify / then load") {
  HttpServer server(Mnist());
  TempDir tmp;
  fs::path dir = tmp.path / "nested" / "mnist";  // created by the download
  Log log;
  Dataset d;
  Status st = pipeline::LoadDataset(T10kConfig(dir.string(), {server.url()}), &d, log.fn());
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(Entries(dir) == std::vector<std::string>{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"});
  std::string md5;
  REQUIRE(pipeline::Md5OfFile((dir / "t10k-images-idx3-ubyte.gz").string(), &md5).ok());
  CHECK(md5 == "9fb629c4189551a2d022fa330f9573f3");
  CHECK(server.requests() == 2);
  CHECK(log.Has("downloading t10k-images-idx3-ubyte.gz from " + server.url() +
                "t10k-images-idx3-ubyte.gz ... ok (1.6 MB, md5 verified)"));
  CHECK(log.Has("downloading t10k-labels-idx1-ubyte.gz from " + server.url() +
                "t10k-labels-idx1-ubyte.gz ... ok (4.5 kB, md5 verified)"));
  CHECK(d.train.count == 9000);
  CHECK(d.validation.count == 1000);
  CHECK(d.test.count == 10000);
  CHECK(d.test.labels[0] == 7);
  CHECK(d.train.labels[1] == 2);

  // Present files are not fetched again.
  st = pipeline::LoadDataset(T10kConfig(dir.string(), {server.url()}), &d);
  CHECK(st.ok());
  CHECK(server.requests() == 2);

  // Only the missing one is fetched.
  fs::remove(dir / "t10k-labels-idx1-ubyte.gz");
  st = pipeline::LoadDataset(T10kConfig(dir.string(), {server.url()}), &d);
  CHECK(st.ok());
  CHECK(server.requests() == 3);
  CHECK(server.paths().back() == "/t10k-labels-idx1-ubyte.gz");
}

TEST_CASE("data: a mirror answering 404 falls through to the next - redirects are followed") {
  HttpServer missing(Mnist(), HttpServer::Mode::kNotFound);
  HttpServer good(Mnist());
  HttpServer redirect(Mnist(), HttpServer::Mode::kRedirect, good.url());
  TempDir tmp;
  Log log;
  Dataset d;
  Status st = pipeline::LoadDataset(T10kConfig(tmp.path.string(), {missing.url(), redirect.url()}), &d, log.fn());
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(missing.requests() == 2);
  CHECK(redirect.requests() == 2);
  CHECK(good.requests() == 2);
  CHECK(log.Has("t10k-images-idx3-ubyte.gz ... failed: HTTP 404"));
  CHECK(d.test.count == 10000);
  CHECK(Entries(tmp.path) == std::vector<std::string>{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"});
}

TEST_CASE("data: corrupted bytes fail the checksum and leave no file behind") {
  HttpServer corrupt(Mnist(), HttpServer::Mode::kCorrupt);
  HttpServer good(Mnist());
  TempDir tmp;
  Dataset d;
  Status st = pipeline::LoadDataset(T10kConfig(tmp.path.string(), {corrupt.url()}), &d);
  CHECK(st.IsNotFound());
  CHECK(Has(st, corrupt.url() + "t10k-images-idx3-ubyte.gz: checksum mismatch"));
  CHECK(Has(st, "expected 9fb629c4189551a2d022fa330f9573f3"));
  CHECK(Entries(tmp.path).empty());  // no temp files, nothing renamed into place

  Log log;
  st = pipeline::LoadDataset(T10kConfig(tmp.path.string(), {corrupt.url(), good.url()}), &d, log.fn());
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(log.Has("failed: checksum mismatch"));
  CHECK(Entries(tmp.path) == std::vector<std::string>{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"});
  CHECK(d.test.labels[0] == 7);
}

TEST_CASE("data: every mirror failing gives NotFound with the needed files / reasons and directory") {
  HttpServer missing(Mnist(), HttpServer::Mode::kNotFound);
  std::string refused;
  {
    HttpServer gone(Mnist());
    refused = gone.url();
  }  // closed: connecting is refused
  TempDir tmp;
  Dataset d;
  Status st = pipeline::LoadDataset(T10kConfig(tmp.path.string(), {missing.url(), refused}), &d);
  REQUIRE(st.IsNotFound());
  const std::string where = tmp.path.string() + "/";
  CHECK(Has(st, "missing dataset files in " + where + ": t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"));
  CHECK(Has(st, missing.url() + "t10k-images-idx3-ubyte.gz: HTTP 404"));
  CHECK(Has(st, missing.url() + "t10k-labels-idx1-ubyte.gz: HTTP 404"));
  CHECK(Has(st, refused + "t10k-images-idx3-ubyte.gz: "));
  CHECK(Has(st, refused + "t10k-labels-idx1-ubyte.gz: "));
  CHECK(Has(st, "copy t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"));
  CHECK(Has(st, "into " + where + " or set dataset.path"));
  CHECK(!Has(st, "train-"));
  CHECK(Entries(tmp.path).empty());
  MESSAGE(st.ToString());
}
