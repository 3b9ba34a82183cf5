#include "common/error_map.h"

#include <gtest/gtest.h>

namespace sightline {
namespace {

TEST(ErrorMapTest, Table) {
  struct Row {
    StatusCode code;
    int http;
    GrpcCode grpc;
    const char* name;
    bool retry;
  };
  const Row rows[] = {
      {StatusCode::kOk, 200, GrpcCode::kOk, "ok", false},
      {StatusCode::kInvalidArgument, 400, GrpcCode::kInvalidArgument, "invalid_argument", false},
      {StatusCode::kNotFound, 404, GrpcCode::kNotFound, "not_found", false},
      {StatusCode::kResourceExhausted, 429, GrpcCode::kResourceExhausted, "resource_exhausted", true},
      {StatusCode::kUnavailable, 503, GrpcCode::kUnavailable, "unavailable", true},
      {StatusCode::kIOError, 503, GrpcCode::kUnavailable, "io_error", true},
      {StatusCode::kTooLarge, 413, GrpcCode::kResourceExhausted, "too_large", false},
      {StatusCode::kUnsupportedMediaType, 415, GrpcCode::kInvalidArgument, "unsupported_media_type", false},
      {StatusCode::kUnauthenticated, 401, GrpcCode::kUnauthenticated, "unauthenticated", false},
      {StatusCode::kPermissionDenied, 403, GrpcCode::kPermissionDenied, "permission_denied", false},
      {StatusCode::kCorruption, 500, GrpcCode::kDataLoss, "corruption", false},
      {StatusCode::kInternal, 500, GrpcCode::kInternal, "internal", false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(HttpStatusFor(r.code), r.http) << StatusCodeName(r.code);
    EXPECT_EQ(GrpcCodeFor(r.code), r.grpc) << StatusCodeName(r.code);
    EXPECT_EQ(ErrorCodeString(r.code), r.name);
    EXPECT_EQ(IsRetryable(r.code), r.retry) << StatusCodeName(r.code);
  }
}

TEST(ErrorMapTest, RpcStatusWireForm) {
  // code=3 (field 1 varint), message "bad" (field 2).
  EXPECT_EQ(EncodeRpcStatusProto(Status::InvalidArgument("bad"), 0), std::string("\x08\x03\x12\x03" "bad", 7));
  std::string with_retry = EncodeRpcStatusProto(Status::ResourceExhausted("full"), 1);
  EXPECT_EQ(with_retry.substr(0, 8), std::string("\x08\x08\x12\x04" "full", 8));
  EXPECT_NE(with_retry.find("type.googleapis.com/google.rpc.RetryInfo"), std::string::npos);
  // Any.value = RetryInfo{retry_delay: Duration{seconds: 1}} = 0a 02 08 01.
  EXPECT_NE(with_retry.find(std::string("\x12\x04\x0a\x02\x08\x01", 6)), std::string::npos);
}

}  // namespace
}  // namespace sightline
