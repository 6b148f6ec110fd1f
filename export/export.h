// The SavedModel exporter's interface: what the export stage hands over, and
// what it gets back. The exporter knows the trained tensors, not the engine.
#pragma once

#include "common/status.h"
#include "export/export_request.h"

namespace pipeline {

// Checks what can be checked before training (signature rules against the
// model, the base path, the version to be written) so a doomed export fails
// before an hour of training. InvalidArgument on a config problem.
Status CheckExport(const ExportRequest& request);

// Writes <export.path>/<version>/ atomically (build in a non-numeric sibling,
// fsync, rename). Never touches an existing version unless export.overwrite.
Status ExportSavedModel(const ExportRequest& request, ExportResult* result);

}  // namespace pipeline
