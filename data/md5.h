// MD5 digests (OpenSSL EVP) for download checksums.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace pipeline {

// Incremental MD5; HexDigest() finishes it (lowercase hex, 32 chars).
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void Update(const void* data, size_t size);
  std::string HexDigest();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

std::string Md5Hex(const void* data, size_t size);

// MD5 of a whole file. NotFound/IOError when it cannot be read.
Status Md5OfFile(const std::string& path, std::string* hex);

}  // namespace pipeline
