// HttpServer: a small HTTP/1.1 server on Boost.Beast/Asio. It owns the listening
// socket, the io_context and its threads, and the connections; it knows nothing of
// routes: each complete request goes to one Handler, which answers through a
// Responder, at once or later from any thread (e.g. from the store's fsync callback).
// The answer is posted back to the connection's strand, so no io thread ever waits.
//
// Limits: a request whose Content-Length exceeds max_body_bytes is answered 413
// before its body is read; a body that grows past the limit while being read (chunked)
// also gets 413; headers are bounded too. Connections are keep-alive; one request per
// connection is in flight at a time (no pipelining), and idle connections time out.
//
// TLS (docs/tls.md): with options.tls set, every connection starts with a TLS
// handshake using the context in force when it was accepted (a certificate rotation
// applies to new connections), bounded by handshake_timeout. A connection whose
// first bytes are not a TLS handshake (plain HTTP sent to the HTTPS port) gets a
// plain-text 400 saying to use https, and is closed.
//
// Shutdown: Stop() closes the acceptor, lets in-flight requests finish (up to a
// grace period), then closes every connection and joins the threads.
//
// Thread-safety: Start/Stop from one thread. The handler runs on io threads,
// concurrently for different connections.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <string_view>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/system/error_code.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/metrics.h"
#include "common/status.h"

namespace sightline::tls {
class ServerTlsSource;
}

namespace sightline::api {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A header value (Beast's string_view) as a std::string_view.
inline std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Delivers the one response for a request. Callable from any thread, exactly once.
// Copyable; copies share the one-shot state.
class Responder {
 public:
  using SendFn = std::function<void(HttpResponse)>;
  explicit Responder(SendFn send) : send_(std::make_shared<SendFn>(std::move(send))) {}
  void operator()(HttpResponse response) const {
    if (auto f = std::exchange(*send_, nullptr)) f(std::move(response));
  }

 private:
  std::shared_ptr<SendFn> send_;
};

using Handler = std::function<void(HttpRequest&& request, Responder respond)>;

// The server sets this header on every request it hands to the Handler to the peer's
// address ("127.0.0.1:53211"), replacing any the client sent.
inline constexpr char kRemoteAddrHeader[] = "x-sightline-remote-addr";
// The server puts the client's address in this field of every request it hands the
// handler, replacing any the client sent (login rate limiting keys on it).
inline constexpr const char* kPeerAddressField = "x-sightline-peer";

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 4318;  // 0: pick a free port
  int threads = 2;
  size_t max_body_bytes = 64u << 20;
  std::chrono::seconds idle_timeout{75};
  std::chrono::seconds read_timeout{60};  // for one whole request once it starts
  // Speak HTTPS with the source's current context; null: plain HTTP. Not owned; must
  // outlive the server.
  tls::ServerTlsSource* tls = nullptr;
  std::chrono::seconds handshake_timeout{10};  // from accept to the end of the TLS handshake
  // Where failed TLS handshakes are counted by reason
  // (sightline_tls_handshake_failures_total{reason}, docs/tls.md); may be null.
  MetricsRegistry* metrics = nullptr;
};

// The bounded reason label of a failed TLS handshake, from OpenSSL's error when it
// gives one: "timeout" (the handshake deadline), "closed" (the client went away),
// "protocol_version" (TLS 1.1 or older, or not TLS), "no_shared_cipher",
// "no_client_certificate" / "client_certificate_refused" (mutual TLS),
// "client_refused_certificate" (the client's alert: it does not trust ours),
// "client_alert" (another alert from the client), or "other".
std::string_view HandshakeFailureReason(const boost::system::error_code& ec, bool deadline_passed);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the io threads; returns the bound port.
  Result<int> Start();
  // Graceful stop, waiting up to grace for in-flight requests. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  int in_flight() const { return in_flight_.load(); }
  bool tls() const { return options_.tls != nullptr; }
  // TLS handshakes that failed or timed out, and plain-HTTP requests refused on the
  // TLS port (for tests and diagnostics).
  int64_t tls_handshake_failures() const { return tls_handshake_failures_.load(); }
  int64_t plain_requests_refused() const { return plain_requests_refused_.load(); }
  // Counts a failed handshake (total and, with options.metrics, by reason).
  void CountHandshakeFailure(std::string_view reason);

 private:
  // A connection as the registry sees it; BasicConnection<Stream> is the real one
  // (Stream: a TCP socket, or a TLS stream over one).
  class Connection {
   public:
    virtual ~Connection() = default;
    // Closes the socket (from any thread), cancelling whatever is pending.
    virtual void Close() = 0;
  };
  template <class Stream>
  class BasicConnection;
  void Accept();
  void RequestStarted();
  void RequestFinished();
  void Register(const std::shared_ptr<Connection>& c);
  void Unregister(Connection* c);

  HttpServerOptions options_;
  Handler handler_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};

  // Declared before ioc_ so that they outlive it: destroying ioc_ may destroy the
  // last references to connections, whose destructors unregister here.
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> tls_handshake_failures_{0};
  std::atomic<int64_t> plain_requests_refused_{0};
  std::mutex mu_;
  std::condition_variable idle_cv_;  // in_flight_ reached 0, or a connection ended
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;  // guarded by mu_

  boost::asio::io_context ioc_;
  // Keeps the io threads running while nothing is pending: a request waiting for its
  // store callback holds no asio operation, yet its answer must still be written.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

}  // namespace sightline::api
