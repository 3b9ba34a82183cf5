#include "common/error_map.h"

#include "common/wire.h"

namespace sightline {
namespace {

void PutTag(std::string* out, int field, int wire_type) { wire::PutVarint(out, (static_cast<uint64_t>(field) << 3) | wire_type); }

void PutBytes(std::string* out, int field, std::string_view bytes) {
  PutTag(out, field, 2);
  wire::PutVarint(out, bytes.size());
  out->append(bytes);
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 429;
    // An I/O failure while writing is the store's trouble, not the sender's: a retry
    // may succeed (OTLP treats 503 as retryable).
    case StatusCode::kIOError: return 503;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kCorruption: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

GrpcCode GrpcCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return GrpcCode::kOk;
    case StatusCode::kInvalidArgument: return GrpcCode::kInvalidArgument;
    case StatusCode::kNotFound: return GrpcCode::kNotFound;
    case StatusCode::kResourceExhausted: return GrpcCode::kResourceExhausted;
    case StatusCode::kIOError: return GrpcCode::kUnavailable;
    case StatusCode::kUnavailable: return GrpcCode::kUnavailable;
    // gRPC itself answers RESOURCE_EXHAUSTED for a message over the receive limit; a
    // body that inflates past the limit is the same failure.
    case StatusCode::kTooLarge: return GrpcCode::kResourceExhausted;
    case StatusCode::kUnsupportedMediaType: return GrpcCode::kInvalidArgument;
    case StatusCode::kUnauthenticated: return GrpcCode::kUnauthenticated;
    case StatusCode::kPermissionDenied: return GrpcCode::kPermissionDenied;
    case StatusCode::kCorruption: return GrpcCode::kDataLoss;
    case StatusCode::kInternal: return GrpcCode::kInternal;
  }
  return GrpcCode::kUnknown;
}

std::string_view ErrorCodeString(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kIOError: return "io_error";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kTooLarge: return "too_large";
    case StatusCode::kUnsupportedMediaType: return "unsupported_media_type";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

bool IsRetryable(StatusCode code) {
  return code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable || code == StatusCode::kIOError;
}

std::string EncodeRpcStatusProto(const Status& status, int retry_after_seconds) {
  std::string out;
  int code = static_cast<int>(GrpcCodeFor(status.code()));
  if (code != 0) {
    PutTag(&out, 1, 0);
    wire::PutVarint(&out, static_cast<uint64_t>(code));
  }
  if (!status.message().empty()) PutBytes(&out, 2, status.message());
  if (retry_after_seconds > 0) {
    std::string duration;  // google.protobuf.Duration{seconds}
    PutTag(&duration, 1, 0);
    wire::PutVarint(&duration, static_cast<uint64_t>(retry_after_seconds));
    std::string retry_info;  // google.rpc.RetryInfo{retry_delay = 1}
    PutBytes(&retry_info, 1, duration);
    std::string any;  // google.protobuf.Any{type_url = 1, value = 2}
    PutBytes(&any, 1, "type.googleapis.com/google.rpc.RetryInfo");
    PutBytes(&any, 2, retry_info);
    PutBytes(&out, 3, any);
  }
  return out;
}

}  // namespace sightline
