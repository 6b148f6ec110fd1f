// The test data the repository carries (tests/data/, see its README.md).
// tests/data/SHA256SUMS lists every fixture file with its digest; Fixture()
// checks the named file, or every listed file under the named directory,
// against it before a test uses it. A missing or damaged fixture therefore
// fails that test with the file's name, instead of a parse error far away
// (or a crash in a test that trusted the bytes). Include after doctest.h.
#pragma once

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace pipeline::test {

inline std::string TestDataDir() { return std::string(PIPELINE_SOURCE_DIR) + "/tests/data"; }

namespace fixtures_internal {

// Lowercase hex SHA-256 of a file's bytes; empty when it cannot be read.
inline std::string Sha256OfFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) EVP_DigestUpdate(ctx, buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  if (failed) return "";
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", digest[i]);
    hex += two;
  }
  return hex;
}

// relative path -> digest, as `sha256sum` wrote them into DATA_DIR/SHA256SUMS.
inline std::map<std::string, std::string> ReadManifest(const std::string& data_dir) {
  std::map<std::string, std::string> m;
  std::ifstream in(data_dir + "/SHA256SUMS");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 66 && line[64] == ' ') m[line.substr(66)] = line.substr(0, 64);
  }
  return m;
}

}  // namespace fixtures_internal

// Why DATA_DIR/REL is not a usable fixture (missing, unreadable, damaged, or
// not listed in DATA_DIR/SHA256SUMS); empty when every listed file at or under
// REL is present with its digest.
inline std::string FixtureProblem(const std::string& data_dir, const std::string& rel) {
  const auto manifest = fixtures_internal::ReadManifest(data_dir);
  if (manifest.empty()) return "test fixture manifest " + data_dir + "/SHA256SUMS is missing or empty";
  const std::string dir_prefix = rel.empty() || rel.back() == '/' ? rel : rel + "/";
  int checked = 0;
  for (const auto& [path, digest] : manifest) {
    if (path != rel && path.rfind(dir_prefix, 0) != 0) continue;
    const std::string full = data_dir + "/" + path;
    const std::string actual = fixtures_internal::Sha256OfFile(full);
    if (actual.empty()) return "test fixture " + full + " is missing or unreadable";
    if (actual != digest) {
      return "test fixture " + full + " is damaged: sha256 " + actual + ", " + data_dir + "/SHA256SUMS says " + digest;
    }
    ++checked;
  }
  if (checked == 0) return "no test fixture " + rel + " is listed in " + data_dir + "/SHA256SUMS";
  return "";
}

// The absolute path of tests/data/REL, after checking REL (a file, or a
// directory whose listed files are all checked) against tests/data/SHA256SUMS;
// fails the calling test with the reason otherwise.
inline std::string Fixture(const std::string& rel) {
  const std::string problem = FixtureProblem(TestDataDir(), rel);
  REQUIRE_MESSAGE(problem.empty(), problem);
  return TestDataDir() + "/" + rel;
}

}  // namespace pipeline::test
