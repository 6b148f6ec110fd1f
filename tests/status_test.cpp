#include <doctest/doctest.h>

#include "common/status.h"

using pipeline::Status;

TEST_CASE("status: exit codes follow the error kind") {
  CHECK(Status::Ok().ExitCode() == 0);
  CHECK(Status::InvalidArgument("bad key").ExitCode() == 2);
  CHECK(Status::Corruption("bad crc").ExitCode() == 1);
  CHECK(Status::NotFound("x").ExitCode() == 1);
  CHECK(Status::Corruption("block 3").ToString() == "Corruption: block 3");
}
