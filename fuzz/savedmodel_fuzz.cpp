// libFuzzer target: the SavedModel reader. The first byte picks the part:
//   even: the bytes are saved_model.pb of a directory without variables;
//         SavedModelReader::Open parses and validates it, then Restore runs
//         its init ops in the interpreter.
//   odd:  a tensor bundle: two bytes of index size, the index, then the data
//         file; ReadBundle verifies blocks, header and tensor checksums.
// Any Status is fine; crashes and sanitizer reports are bugs.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_util.h"
#include "tfformat/bundle_reader.h"
#include "serving/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 20) return -1;
  const std::string dir = pipeline::fuzz::ScratchDir();
  if ((data[0] & 1) == 0) {
    const std::string model = dir + "/model";
    std::filesystem::create_directories(model);
    pipeline::fuzz::WriteBytes(model + "/saved_model.pb", data + 1, size - 1);
    std::unique_ptr<pipeline::SavedModelReader> reader;
    if (pipeline::SavedModelReader::Open(model, {}, &reader).ok()) {
      (void)reader->Restore();
      (void)reader->OpCounts();
    }
    return 0;
  }
  if (size < 3) return 0;
  const size_t index_size = std::min<size_t>(size - 3, (size_t(data[1]) << 8) | data[2]);
  const std::string prefix = dir + "/bundle";
  pipeline::fuzz::WriteBytes(prefix + ".index", data + 3, index_size);
  pipeline::fuzz::WriteBytes(prefix + ".data-00000-of-00001", data + 3 + index_size, size - 3 - index_size);
  pipeline::BundleTensors tensors;
  (void)pipeline::ReadBundle(prefix, &tensors);
  return 0;
}
