// A small synchronous HTTP/1.1 client for the CLI, on Boost.Beast: one keep-alive
// connection to one server, reused across requests, with a timeout on every step.
// https:// URLs speak TLS (docs/tls.md): the server's certificate must chain to the
// system's trust store, or to HttpClientOptions::ca_file (--ca-cert, SIGHTLINE_CA_CERT),
// and name the URL's host (DNS name or IP address).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sightline::cli {

// A server base URL: http[s]://host:port/prefix. The prefix (possibly empty, never ending
// in '/') is put before every request path, so a server behind a reverse proxy at
// http://proxy/sightline works.
struct Url {
  std::string host;    // "127.0.0.1", "localhost", "::1" (brackets removed)
  uint16_t port = 80;  // 80 (443 for https) when the URL names none
  std::string prefix;  // "" or "/sightline"
  bool tls = false;    // https

  // "http[s]://host:port/prefix" (IPv6 hosts in brackets), for messages.
  std::string ToString() const;
};

// Parses "http[s]://host[:port][/prefix]" (scheme optional: "host:port" is taken as
// http). InvalidArgument naming the problem for another scheme, an empty host, a bad
// port, a query or fragment.
Result<Url> ParseUrl(std::string_view text);

// Percent-encodes a query-string component (RFC 3986 unreserved characters pass).
std::string UrlEncode(std::string_view s);

// Builds "?a=1&b=2" (empty when params is empty), encoding keys and values.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};  // write + read of one exchange
  size_t max_response_bytes = 256u << 20;
  // Sent with every request (e.g. Authorization: Bearer <token>); a request's own
  // headers of the same name win.
  std::vector<std::pair<std::string, std::string>> default_headers;
  // https: trust only the CA certificates in this PEM file (a private CA); empty: the
  // system's trust store.
  std::string ca_file;
  // https: the client certificate chain and its key (PEM) to present to a server that
  // requires one (mutual TLS); both or neither.
  std::string cert_file;
  std::string key_file;
};

// One connection to one server, reused while the server keeps it open (HTTP/1.1
// keep-alive). A request on a reused connection that fails before any answer arrives
// is retried once on a fresh connection (the server may have closed an idle one).
// Errors are Unavailable (cannot connect, timeout, connection dropped, TLS handshake
// refused, e.g. an untrusted certificate) naming the URL; a ca_file that cannot be used
// is InvalidArgument, at the first request.
// Thread-safety: none; one thread uses a client at a time.
class HttpClient {
 public:
  explicit HttpClient(Url base, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // target is the path and query below the base prefix: "/api/v1/traces?limit=5".
  Result<HttpResponse> Get(std::string_view target);
  Result<HttpResponse> Post(std::string_view target, std::string_view body, std::string_view content_type,
                            const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  Result<HttpResponse> Request(std::string_view method, std::string_view target, std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& headers);

  const Url& base() const { return base_; }
  // Connections opened so far (for tests of keep-alive reuse).
  int connections_opened() const { return connections_opened_; }

 private:
  struct Impl;
  Result<HttpResponse> Exchange(std::string_view method, const std::string& target, std::string_view body,
                                const std::vector<std::pair<std::string, std::string>>& headers, bool* sent_any);
  // The write and read of one exchange on the connection's stream (TCP or TLS).
  template <class Stream, class Message>
  Result<HttpResponse> ExchangeOn(Stream& stream, const Message& request, const std::string& target, bool* sent_any);
  Status Connect();

  Url base_;
  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
  int connections_opened_ = 0;
};

// The API's error message from a non-2xx answer: the "error.message" of
// {"error":{"code","message"}} when the body has one, else the body's first line
// (cut), else the status code.
std::string ErrorMessageFromResponse(const HttpResponse& response);

}  // namespace sightline::cli
