#include "cli/otlp_sender.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "cli/otlp_mapping.h"

namespace sightline::cli {

std::optional<int64_t> RetryAfterMs(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h.empty()) return std::nullopt;
  int64_t secs = 0;
  auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), secs);
  if (ec != std::errc() || p != h.data() + h.size() || secs < 0) return std::nullopt;  // HTTP-dates: not used here
  return std::min<int64_t>(secs, 3600) * 1000;
}

Status SendOtlp(HttpClient& client, const ingest::ExportRequest& request, const SendOptions& options,
                SendResult* result) {
  *result = SendResult{};
  std::string body = request.SerializeAsString();
  std::vector<std::pair<std::string, std::string>> headers;
  if (!options.project.empty()) headers.emplace_back("x-sightline-project", options.project);
  if (options.gzip) {
    body = ingest::Gzip(body);
    headers.emplace_back("Content-Encoding", "gzip");
  }
  auto sleep = options.sleep ? options.sleep
                             : [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  int64_t backoff = 500;
  int connection_failures = 0;
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options.max_attempts); ++attempt) {
    result->attempts = attempt;
    auto r = client.Post("/v1/traces", body, "application/x-protobuf", headers);
    int64_t wait = backoff;
    if (!r.ok()) {
      // A server that cannot be reached at all is most likely not running: a few
      // quick tries, not the long patience an overloaded one gets.
      last = r.status();
      if (++connection_failures >= 3) break;
    } else if (r->status >= 200 && r->status < 300) {
      result->sent_spans = CountSpans(request);
      ingest::ExportResponse resp;
      if (!r->body.empty() && resp.ParseFromString(r->body) && resp.has_partial_success()) {
        result->rejected_spans = resp.partial_success().rejected_spans();
        result->error_message = resp.partial_success().error_message();
      }
      return Status::OK();
    } else {
      std::string msg = "POST " + client.base().ToString() + "/v1/traces: HTTP " + std::to_string(r->status) + ": " +
                        ErrorMessageFromResponse(*r);
      if (r->status != 429 && r->status != 503 && r->status != 502 && r->status != 504) {
        if (r->status == 413) return Status::TooLarge(msg);
        return Status::InvalidArgument(msg);
      }
      last = Status::Unavailable(msg);
      if (auto ra = RetryAfterMs(r->Header("Retry-After"))) wait = *ra;
    }
    if (attempt == options.max_attempts) break;
    sleep(std::min(wait, options.max_backoff_ms));
    backoff = std::min(backoff * 2, options.max_backoff_ms);
  }
  return last.WithContext("giving up after " + std::to_string(result->attempts) + " attempts");
}

}  // namespace sightline::cli
