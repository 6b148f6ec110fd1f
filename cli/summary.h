// The run summary: what `--json FILE` and <run_dir>/summary.json hold.
#pragma once

#include <string>

#include "common/status.h"
#include "stages/context.h"

namespace pipeline::cli {

std::string SummaryJson(const Context& ctx, const Status& status);

}  // namespace pipeline::cli
