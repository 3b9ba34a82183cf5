// The one place that maps Sightline's StatusCode to the answers of each protocol:
// HTTP status, gRPC status code, the API's error code string, and whether the client
// should retry (Retry-After). Receivers and the REST API all go through here, so one
// kind of failure always looks the same from outside (OTel Collector
// internal/errors).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sightline {

// gRPC status codes by their wire numbers (grpc/status.h), so that common does not
// depend on gRPC; the gRPC receiver casts them to grpc::StatusCode.
enum class GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// 400, 404, 413, 415, 429, 503, ...
int HttpStatusFor(StatusCode code);
GrpcCode GrpcCodeFor(StatusCode code);
// The "code" of the API's {"error":{"code":...,"message":...}}: "invalid_argument",
// "not_found", "too_large", "resource_exhausted", "unavailable", ...
std::string_view ErrorCodeString(StatusCode code);
// True for failures that a retry may cure (queue full, unavailable, I/O error): HTTP
// answers carry Retry-After, gRPC answers carry google.rpc.RetryInfo.
bool IsRetryable(StatusCode code);
// Seconds a client should wait before retrying (Retry-After).
constexpr int kRetryAfterSeconds = 1;

// A google.rpc.Status message in protobuf wire form (code = GrpcCodeFor(status),
// message), with a google.rpc.RetryInfo detail of retry_after_seconds when > 0. Used
// as the OTLP/HTTP protobuf error body and as gRPC's binary error details.
std::string EncodeRpcStatusProto(const Status& status, int retry_after_seconds);

}  // namespace sightline
