#include "ingest/redact_request.h"

#include <string>

#include "ingest/normalize/attr_index.h"

namespace sightline::ingest {

bool RedactRequest(pipeline::RedactionService* redaction, ExportRequest* request, std::string_view header_project) {
  bool changed = false;
  for (auto& rs : *request->mutable_resource_spans()) {
    std::string project(header_project);
    if (project.empty()) {
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "openinference.project.name") {
          norm::ScalarText(&kv.value(), &project);
          break;
        }
      }
    }
    if (project.empty()) project = "default";
    changed |= redaction->Redact(project, &rs);
  }
  return changed;
}

}  // namespace sightline::ingest
