// Downloading dataset files over HTTP(S) with libcurl, with MD5 verification
// and atomic placement (temp file in the target directory, fsync, rename).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/dataset.h"

namespace pipeline {


// The published MD5 (lowercase hex) of `file_name` (e.g.
// "t10k-images-idx3-ubyte.gz") of a dataset, or "" when not known.
std::string KnownMd5(const std::string& dataset_name, const std::string& file_name);

struct DownloadOptions {
  long connect_timeout_s = 10;
  long low_speed_limit = 1024;     // bytes/s; slower than this for...
  long low_speed_time_s = 30;      // ...this long aborts the transfer
  int64_t max_bytes = int64_t(512) << 20;
};

// GETs `url` (redirects followed) into `dest_path`: writes "<dir>/.<name>.XXXXXX"
// next to it, fsyncs, checks the MD5 when `expected_md5` is non-empty, then
// renames. On any failure nothing is left behind and the status says why
// (IOError for transfer/file problems, Corruption for a checksum mismatch).
Status DownloadFile(const std::string& url, const std::string& dest_path, const std::string& expected_md5,
                    const DownloadOptions& options, int64_t* bytes);

// Tries `file_name` from each mirror in turn (mirror + file_name) into `dir`
// (created if absent), logging each attempt. On failure returns NotFound and
// appends "<url>: <reason>" for every attempt to *failures.
Status FetchFromMirrors(const std::vector<std::string>& mirrors, const std::string& file_name,
                        const std::string& expected_md5, const std::string& dir, LogFn log,
                        std::vector<std::string>* failures, const DownloadOptions& options = {});

// "9.9 MB", "4.5 kB", "12 bytes".
std::string HumanBytes(int64_t bytes);

}  // namespace pipeline
