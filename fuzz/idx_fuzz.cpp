// libFuzzer target: the IDX reader (plain and gzip). The first byte picks
// images/labels, the file name (.gz or not) and the label limit; the rest is
// the file. Any Status is fine; crashes and sanitizer reports are bugs.
#include <cstdint>
#include <string>
#include <vector>

#include "data/idx.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 20) return -1;
  const uint8_t mode = data[0];
  const auto kind = (mode & 1) ? pipeline::IdxKind::kLabels : pipeline::IdxKind::kImages;
  const std::string path = pipeline::fuzz::ScratchDir() + ((mode & 2) ? "/f-idx.gz" : "/f-idx");
  pipeline::fuzz::WriteBytes(path, data + 1, size - 1);
  std::unique_ptr<pipeline::IdxReader> reader;
  if (!pipeline::IdxReader::Open(path, kind, &reader).ok()) return 0;
  const int64_t count = reader->header().count;
  std::vector<uint8_t> a, b;
  std::vector<pipeline::IdxRange> ranges;
  // Bounded copies: at most 4096 items per range so a huge header stays cheap.
  ranges.push_back({0, std::min<int64_t>(count, (mode >> 2) & 7), &a});
  if (count > 2) ranges.push_back({count / 2, std::min<int64_t>(count - count / 2, 4096), &b});
  (void)reader->ReadRanges(ranges, (mode & 0x20) ? 10 : 0);
  return 0;
}
