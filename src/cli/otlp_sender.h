// Sends OTLP requests to a server's POST /v1/traces as protobuf, retrying 429 and 503
// answers as the OTLP spec asks (honouring Retry-After, else exponential backoff),
// and reading partial_success from the answer. Used by `import` and `demo`.
// Thread-safety: one sender per thread (it owns no state but uses the client).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/http_client.h"
#include "ingest/otlp_decode.h"

namespace sightline::cli {

struct SendOptions {
  int max_attempts = 8;         // for 429/503 (a server that cannot be reached: 3)
  int64_t max_backoff_ms = 30000;
  bool gzip = false;            // Content-Encoding: gzip
  std::string project;          // x-sightline-project header, when set
  // Sleeps between attempts (replaceable in tests).
  std::function<void(int64_t ms)> sleep;
};

struct SendResult {
  int64_t sent_spans = 0;
  int64_t rejected_spans = 0;  // from partial_success
  std::string error_message;   // partial_success.error_message, when any
  int attempts = 0;
};

// Posts the request; OK when the server accepted it (2xx), possibly with rejected
// spans. A 4xx other than 429 fails at once (the request would fail again); 429, 502,
// 503 and 504 are retried up to max_attempts, connection failures three times. The
// error names the URL and the server's message.
Status SendOtlp(HttpClient& client, const ingest::ExportRequest& request, const SendOptions& options,
                SendResult* result);

// Parses a Retry-After header (delta-seconds); nullopt when absent or malformed.
std::optional<int64_t> RetryAfterMs(std::string_view header);

}  // namespace sightline::cli
