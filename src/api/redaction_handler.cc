// GET /api/v1/redaction: the redaction policy in force (docs/redaction.md), per
// project, without hash keys or custom patterns; answered from memory.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/router.h"
#include "pipeline/redaction_describe.h"

namespace sightline::api {

HttpResponse ApiRouter::RedactionPolicy() {
  if (options_.redaction == nullptr) return Error(Status::NotFound("redaction is off"));
  auto policy = options_.redaction->policy();
  if (!policy) return Error(Status::Unavailable("no redaction policy loaded"));
  std::string body = "{\"source\":";
  std::string source = options_.redaction->Describe();
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(source.data(), static_cast<rapidjson::SizeType>(source.size()));
  body.append(b.GetString(), b.GetSize());
  Status last = options_.redaction->last_error();
  body += ",\"last_reload_error\":";
  if (last.ok()) {
    body += "null";
  } else {
    rapidjson::StringBuffer e;
    rapidjson::Writer<rapidjson::StringBuffer> ew(e);
    ew.String(last.message().data(), static_cast<rapidjson::SizeType>(last.message().size()));
    body.append(e.GetString(), e.GetSize());
  }
  body += ",\"policy\":" + pipeline::redaction::DescribePolicyJson(*policy) + "}";
  return Json(200, std::move(body));
}

}  // namespace sightline::api
