// The ingest step that redacts a decoded OTLP request before normalisation (so every
// canonical field derived from an attribute is derived from the redacted value) and
// long before the WAL (pipeline/redaction_service.h, docs/redaction.md).
#pragma once

#include <string_view>

#include "ingest/otlp_decode.h"
#include "pipeline/redaction_service.h"

namespace sightline::ingest {

// Redacts every ResourceSpans of the request under its project's rules. The project
// is resolved as normalisation resolves it: the header's, else the resource's
// openinference.project.name, else "default". True when anything was changed or removed.
bool RedactRequest(pipeline::RedactionService* redaction, ExportRequest* request, std::string_view header_project);

}  // namespace sightline::ingest
