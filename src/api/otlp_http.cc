// OTLP/HTTP receiver routes: POST /v1/traces and POST /api/public/otel/v1/traces.
//
// Request: Content-Type application/x-protobuf (or application/protobuf) or
// application/json (parameters such as charset ignored); Content-Encoding gzip or
// identity; header x-sightline-project optional (ignored when an API key names the
// project: docs/auth.md). Anything else: 415.
// Answer in the request's content type: ExportTraceServiceResponse (protobuf or OTLP
// JSON) with partial_success when spans were rejected. Failures: the status
// common/error_map gives (400 malformed, 413 too large, 429 queue full, 503
// unavailable; Retry-After on the last two) with, for protobuf, a google.rpc.Status
// body, and for JSON {"code":<grpc code>,"message":"...","error":{"code":"...",
// "message":"..."}} (both the OTLP Status shape and Sightline's error shape).
#include <cctype>

#include <boost/beast/http/field.hpp>

#include "api/json_encode.h"
#include "api/router.h"
#include "common/error_map.h"
#include "ingest/otlp_decode.h"

namespace sightline::api {
namespace {

namespace http = boost::beast::http;
using ingest::BodyFormat;


std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}


// "application/json; charset=utf-8" -> kJson.
std::optional<BodyFormat> ParseContentType(std::string_view header) {
  std::string type = Lower(TrimOws(header.substr(0, header.find(';'))));
  if (type == "application/x-protobuf" || type == "application/protobuf") return BodyFormat::kProtobuf;
  if (type == "application/json") return BodyFormat::kJson;
  return std::nullopt;
}

const char* ContentTypeOf(BodyFormat f) {
  return f == BodyFormat::kJson ? "application/json" : "application/x-protobuf";
}

HttpResponse OtlpError(BodyFormat format, const Status& st) {
  HttpResponse res{static_cast<http::status>(HttpStatusFor(st.code())), 11};
  res.set(http::field::content_type, ContentTypeOf(format));
  bool retry = IsRetryable(st.code());
  if (retry) res.set(http::field::retry_after, std::to_string(kRetryAfterSeconds));
  if (format == BodyFormat::kProtobuf) {
    res.body() = EncodeRpcStatusProto(st, retry ? kRetryAfterSeconds : 0);
    return res;
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("code");
  w.Int(static_cast<int>(GrpcCodeFor(st.code())));
  w.Key("message");
  w.String(st.message().data(), static_cast<rapidjson::SizeType>(st.message().size()));
  w.Key("error");
  w.StartObject();
  w.Key("code");
  auto code = ErrorCodeString(st.code());
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(st.message().data(), static_cast<rapidjson::SizeType>(st.message().size()));
  w.EndObject();
  w.EndObject();
  res.body().assign(buf.GetString(), buf.GetSize());
  return res;
}

HttpResponse OtlpAnswer(BodyFormat format, const ingest::IngestResult& r) {
  if (!r.status.ok()) return OtlpError(format, r.status);
  ingest::ExportResponse resp;
  if (r.rejected > 0) {
    resp.mutable_partial_success()->set_rejected_spans(r.rejected);
    resp.mutable_partial_success()->set_error_message(r.message);
  }
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, ContentTypeOf(format));
  res.body() = format == BodyFormat::kJson ? ingest::EncodeExportResponseJson(resp) : resp.SerializeAsString();
  return res;
}

}  // namespace

void ApiRouter::HandleOtlp(HttpRequest&& req, const auth::Principal& caller, Responder respond) {
  // A user's token reads; only a project's API key writes (its project is where the
  // spans go, whatever the request names).
  if (!caller.all_projects && caller.ingest_project.empty())
    return respond(Error(Status::PermissionDenied("sending spans needs a project API key, not a user token")));
  auto format = ParseContentType(View(req[http::field::content_type]));
  if (!format) {
    return respond(Error(Status::UnsupportedMediaType(
        "Content-Type \"" + std::string(req[http::field::content_type]) +
        "\" is not supported: send application/x-protobuf or application/json")));
  }
  std::string encoding = Lower(TrimOws(View(req[http::field::content_encoding])));
  bool gzip = false;
  if (encoding == "gzip" || encoding == "x-gzip") {
    gzip = true;
  } else if (!encoding.empty() && encoding != "identity") {
    return respond(OtlpError(*format, Status::UnsupportedMediaType("Content-Encoding \"" + encoding +
                                                                   "\" is not supported: send gzip or identity")));
  }
  ingest::IngestRequest ir;
  ir.body = std::move(req.body());
  ir.format = *format;
  ir.gzip = gzip;
  ir.project = caller.all_projects ? std::string(TrimOws(View(req["x-sightline-project"]))) : caller.ingest_project;
  BodyFormat f = *format;
  ingest_->Submit(std::move(ir), [f, respond](ingest::IngestResult r) { respond(OtlpAnswer(f, r)); });
}

}  // namespace sightline::api
