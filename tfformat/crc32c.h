// CRC-32C (Castagnoli polynomial, reflected 0x82f63b78), as used by
// TensorFlow checkpoints, LevelDB tables and TFRecord files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pipeline::crc32c {

// CRC of data[0, n) continued from `init_crc` (the CRC of the preceding bytes;
// 0 for none). Extend(Extend(0, a), b) == Value(a + b).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// Stored checksums are "masked" so that a CRC computed over data that itself
// contains CRCs stays well distributed: rotate right by 15 bits, then add a
// constant (LevelDB / TensorFlow convention).
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace pipeline::crc32c
