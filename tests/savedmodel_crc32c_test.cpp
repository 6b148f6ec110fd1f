#include <doctest/doctest.h>

#include <string>

#include "tfformat/crc32c.h"

namespace crc = pipeline::crc32c;

TEST_CASE("crc32c: RFC 3720 test vectors") {
  std::string buf(32, '\0');
  CHECK(crc::Value(buf) == 0x8a9136aau);
  buf.assign(32, '\xff');
  CHECK(crc::Value(buf) == 0x62a8ab43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  CHECK(crc::Value(buf) == 0x46dd794eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  CHECK(crc::Value(buf) == 0x113fdb5cu);
  CHECK(crc::Value("123456789") == 0xe3069283u);
  CHECK(crc::Value("") == 0u);
}

TEST_CASE("crc32c: Extend composes at every split point") {
  const std::string s = "hello world, this is a checkpoint with some bytes";
  const uint32_t whole = crc::Value(s);
  for (size_t i = 0; i <= s.size(); ++i) {
    CHECK(crc::Extend(crc::Value(s.data(), i), s.data() + i, s.size() - i) == whole);
  }
}

TEST_CASE("crc32c: mask and unmask") {
  const uint32_t c = crc::Value("foo");
  CHECK(crc::Mask(c) != c);
  CHECK(crc::Mask(crc::Mask(c)) != c);
  CHECK(crc::Unmask(crc::Mask(c)) == c);
  CHECK(crc::Unmask(crc::Unmask(crc::Mask(crc::Mask(c)))) == c);
  for (uint32_t v : {0u, 1u, 0xffffffffu, 0x80000000u, 0x12345678u}) CHECK(crc::Unmask(crc::Mask(v)) == v);
  CHECK(crc::Mask(0) == 0xa282ead8u);
}
