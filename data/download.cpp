#include "data/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include <fmt/format.h>

#include "data/md5.h"

namespace pipeline {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  int fd = -1;
  Md5 md5;
  int64_t bytes = 0;
  int64_t max_bytes = 0;
  std::string error;  // set when the callback aborts the transfer
};

size_t WriteCallback(char* data, size_t size, size_t nmemb, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->bytes + int64_t(n) > sink->max_bytes) {
    sink->error = fmt::format("response larger than {}", HumanBytes(sink->max_bytes));
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(sink->fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      sink->error = std::string("write failed: ") + std::strerror(errno);
      return 0;
    }
    done += size_t(w);
  }
  sink->md5.Update(data, n);
  sink->bytes += int64_t(n);
  return n;
}

std::string JoinUrl(const std::string& mirror, const std::string& file) {
  if (!mirror.empty() && mirror.back() == '/') return mirror + file;
  return mirror + "/" + file;
}

void SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string KnownMd5(const std::string& dataset_name, const std::string& file_name) {
  static const std::map<std::string, std::map<std::string, std::string>> kMd5 = {
      {"mnist",
       {{"train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
        {"train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"},
        {"t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"},
        {"t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"}}},
      // As published by zalandoresearch/fashion-mnist (the files its mirror serves).
      {"fashion_mnist",
       {{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
        {"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"},
        {"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"},
        {"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"}}},
  };
  auto d = kMd5.find(dataset_name);
  if (d == kMd5.end()) return "";
  auto f = d->second.find(file_name);
  return f == d->second.end() ? "" : f->second;
}

std::string HumanBytes(int64_t bytes) {
  if (bytes >= 1000 * 1000) return fmt::format("{:.1f} MB", double(bytes) / 1e6);
  if (bytes >= 1000) return fmt::format("{:.1f} kB", double(bytes) / 1e3);
  return fmt::format("{} bytes", bytes);
}

Status DownloadFile(const std::string& url, const std::string& dest_path, const std::string& expected_md5,
                    const DownloadOptions& options, int64_t* bytes) {
  namespace fs = std::filesystem;
  InitCurlOnce();
  fs::path dest(dest_path);
  fs::path dir = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::string temp_name = ".";  // hidden while incomplete; mkstemp fills the Xs
  temp_name.append(dest.filename().string()).append(".XXXXXX");
  std::string tmpl = (dir / temp_name).string();
  std::vector<char> tmp(tmpl.begin(), tmpl.end());
  tmp.push_back('\0');
  Sink sink;
  sink.max_bytes = options.max_bytes;
  sink.fd = ::mkstemp(tmp.data());
  if (sink.fd < 0) {
    return Status::IOError(fmt::format("cannot create a temporary file in {}: {}", dir.string(), std::strerror(errno)));
  }
  std::string tmp_path(tmp.data());
  auto fail = [&](Status st) {
    if (sink.fd >= 0) ::close(sink.fd);
    ::unlink(tmp_path.c_str());
    return st;
  };

  CURL* curl = curl_easy_init();
  if (curl == nullptr) return fail(Status::Runtime("curl_easy_init failed"));
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.low_speed_time_s);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.max_bytes));
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "pipeline/1.0");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::string reason;
    if (rc == CURLE_HTTP_RETURNED_ERROR && http != 0) {
      reason = fmt::format("HTTP {}", http);
    } else if (!sink.error.empty()) {
      reason = sink.error;
    } else {
      reason = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    }
    return fail(Status::IOError(reason));
  }
  if (::fsync(sink.fd) != 0) return fail(Status::IOError(std::string("fsync failed: ") + std::strerror(errno)));
  if (::close(sink.fd) != 0) {
    sink.fd = -1;
    return fail(Status::IOError(std::string("close failed: ") + std::strerror(errno)));
  }
  sink.fd = -1;
  std::string md5 = sink.md5.HexDigest();
  if (!expected_md5.empty() && md5 != expected_md5) {
    return fail(Status::Corruption(fmt::format("checksum mismatch: md5 {} of {}, expected {}", md5,
                                               HumanBytes(sink.bytes), expected_md5)));
  }
  if (::rename(tmp_path.c_str(), dest_path.c_str()) != 0) {
    return fail(Status::IOError(fmt::format("cannot rename {} to {}: {}", tmp_path, dest_path, std::strerror(errno))));
  }
  SyncDirectory(dir.string());
  if (bytes != nullptr) *bytes = sink.bytes;
  return Status::Ok();
}

Status FetchFromMirrors(const std::vector<std::string>& mirrors, const std::string& file_name,
                        const std::string& expected_md5, const std::string& dir, LogFn log,
                        std::vector<std::string>* failures, const DownloadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir.empty() ? fs::path(".") : fs::path(dir), ec);
  if (ec) return Status::IOError(fmt::format("cannot create directory {}: {}", dir, ec.message()));
  std::string dest = (fs::path(dir.empty() ? "." : dir) / file_name).string();
  for (const std::string& mirror : mirrors) {
    std::string url = JoinUrl(mirror, file_name);
    if (log) log(fmt::format("downloading {} from {} ...", file_name, url));
    int64_t bytes = 0;
    Status st = DownloadFile(url, dest, expected_md5, options, &bytes);
    if (st.ok()) {
      if (log) {
        log(fmt::format("downloading {} from {} ... ok ({}{})", file_name, url, HumanBytes(bytes),
                        expected_md5.empty() ? ", no known checksum" : ", md5 verified"));
      }
      return Status::Ok();
    }
    if (log) log(fmt::format("downloading {} from {} ... failed: {}", file_name, url, st.message()));
    if (failures != nullptr) failures->push_back(url + ": " + st.message());
  }
  return Status::NotFound(fmt::format("{}: no mirror could provide it", file_name));
}

}  // namespace pipeline
