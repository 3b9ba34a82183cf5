#include "api/http_server.h"

#include <array>
#include <charconv>
#include <optional>
#include <type_traits>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api/json_encode.h"
#include "common/buffer_pool.h"
#include "common/thread_name.h"
#include "tls/server_tls.h"

namespace sightline::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
// Bodies at least this long are read directly, not through Beast's parser (ReadBody).
constexpr size_t kDirectBodyBytes = 64 * 1024;
// After answering a request whose body was not read (413), keep reading and
// discarding for a while before closing: closing a socket with unread input sends an
// RST, which can destroy the answer before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 8u << 20;
// How long a TLS connection waits for the client's close_notify after sending its own.
constexpr auto kTlsShutdownTime = std::chrono::seconds(1);

using TlsStream = beast::ssl_stream<tcp::socket>;

HttpResponse ErrorResponse(http::status code, const Status& st) {
  HttpResponse res{code, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = ErrorJson(st);
  return res;
}

}  // namespace

std::string_view HandshakeFailureReason(const boost::system::error_code& ec, bool deadline_passed) {
  if (deadline_passed || ec == beast::error::timeout) return "timeout";
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe)
    return "closed";
  if (ec.category() == asio::error::get_ssl_category()) {
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
    switch (reason) {
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_VERSION_TOO_LOW:
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: return "protocol_version";
      case SSL_R_NO_SHARED_CIPHER: return "no_shared_cipher";
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return "no_client_certificate";
      case SSL_R_CERTIFICATE_VERIFY_FAILED: return "client_certificate_refused";
      case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED: return "client_refused_certificate";
      default: break;
    }
    if (reason >= SSL_AD_REASON_OFFSET) return "client_alert";
  }
  return "other";
}

void HttpServer::CountHandshakeFailure(std::string_view reason) {
  tls_handshake_failures_.fetch_add(1);
  if (options_.metrics == nullptr) return;
  options_.metrics
      ->GetCounter("sightline_tls_handshake_failures_total",
                   "TLS handshakes on the HTTP port that failed, by reason (docs/tls.md).", {{"reason", std::string(reason)}})
      ->Inc();
}

// One accepted TCP connection, plain or TLS. Lives while an I/O operation or a
// pending Responder holds it. All of its state is touched only on its strand.
//
// Timeouts are one deadline per phase (the TLS handshake, waiting for a request,
// reading it, writing the answer), kept by one steady_timer: arming it costs a
// timer-queue update per phase, where beast::tcp_stream re-arms its timer on every
// read_some of a large body.
template <class Stream>
class HttpServer::BasicConnection : public HttpServer::Connection,
                                    public std::enable_shared_from_this<BasicConnection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

 public:
  BasicConnection(tcp::socket&& socket, HttpServer* server, std::shared_ptr<tls::ServerTlsContext> tls)
      : tls_(std::move(tls)),
        stream_(MakeStream(std::move(socket), tls_.get())),
        timer_(Socket().get_executor()),
        server_(server) {
    beast::error_code ec;
    auto ep = Socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                                     : ep.address().to_string() + ":" + std::to_string(ep.port());
    }
  }
  ~BasicConnection() override { server_->Unregister(this); }

  void Start() {
    if constexpr (kTls) {
      asio::dispatch(Socket().get_executor(), beast::bind_front_handler(&BasicConnection::Detect, this->shared_from_this()));
    } else {
      asio::dispatch(Socket().get_executor(), beast::bind_front_handler(&BasicConnection::ReadHeader, this->shared_from_this()));
    }
  }

  void Close() override {
    asio::post(Socket().get_executor(), [self = this->shared_from_this()] { self->Shutdown(); });
  }

 private:
  static Stream MakeStream(tcp::socket&& socket, tls::ServerTlsContext* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), tls->context());
    } else {
      return std::move(socket);
    }
  }

  tcp::socket& Socket() { return beast::get_lowest_layer(stream_); }

  // Sets the deadline of the current phase: when it passes, the socket closes and the
  // pending read or write ends with an error.
  void Arm(std::chrono::steady_clock::duration d) {
    timer_.expires_after(d);  // cancels the previous phase's wait
    timer_.async_wait([self = this->shared_from_this(), gen = ++timer_gen_](beast::error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->deadline_passed_ = true;
      self->Shutdown();
    });
  }

  void Disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  // TLS: the first bytes decide. A TLS ClientHello goes to the handshake (with the
  // bytes already read); anything else is refused in plain text.
  void Detect() {
    Arm(server_->options_.handshake_timeout);
    beast::async_detect_ssl(Socket(), buffer_,
                            beast::bind_front_handler(&BasicConnection::OnDetect, this->shared_from_this()));
  }

  void OnDetect(beast::error_code ec, bool is_tls) {
    if (ec) {
      // Silent until the handshake deadline counts; a client that just closed does not.
      if (ec != asio::error::eof || deadline_passed_)
        server_->CountHandshakeFailure(HandshakeFailureReason(ec, deadline_passed_));
      return Shutdown();
    }
    if (!is_tls) return RefusePlain();
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                              beast::bind_front_handler(&BasicConnection::OnHandshake, this->shared_from_this()));
    }
  }

  void OnHandshake(beast::error_code ec, size_t used) {
    if (ec) {
      // A client that does not trust the certificate, an old protocol version, a
      // missing client certificate, or the deadline: nothing to answer in TLS.
      server_->CountHandshakeFailure(HandshakeFailureReason(ec, deadline_passed_));
      return Shutdown();
    }
    buffer_.consume(used);
    handshake_done_ = true;
    ReadHeader();
  }

  // Plain HTTP on the TLS port: one fixed answer, unencrypted, then close.
  void RefusePlain() {
    server_->plain_requests_refused_.fetch_add(1);
    static const std::string kAnswer = [] {
      std::string body = "This port speaks HTTPS: use an https:// URL.\n";
      return "HTTP/1.1 400 Bad Request\r\nServer: sightline\r\nContent-Type: text/plain\r\nConnection: close\r\n"
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    buffer_.clear();
    Arm(server_->options_.read_timeout);
    asio::async_write(Socket(), asio::buffer(kAnswer), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Shutdown();
      self->raw_drain_ = true;
      self->Linger();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_->options_.max_body_bytes);
    Arm(server_->options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&BasicConnection::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    if (auto cl = parser_->content_length(); cl && *cl > server_->options_.max_body_bytes) {
      return SendEarly(ErrorResponse(http::status::payload_too_large,
                                     Status::TooLarge("Content-Length " + std::to_string(*cl) +
                                                      " is over the limit of " +
                                                      std::to_string(server_->options_.max_body_bytes) + " bytes")));
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code wec, size_t) {
        if (wec) return self->Shutdown();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Arm(server_->options_.read_timeout);
    // A large body of known length is read straight into one buffer of its size (a warm
    // one from the pool), each read asking for all that is left. Beast's parser reads
    // at most 64 KiB a call into its own buffer and copies each piece into the body: a
    // payload-heavy OTLP request of ~3 MB took ~45 reads and a copy.
    auto cl = parser_->content_length();
    if (cl && !parser_->chunked() && *cl >= kDirectBodyBytes) {
      body_ = BufferPool::Default()->Take();
      body_.resize(static_cast<size_t>(*cl));
      size_t have = std::min<size_t>(buffer_.size(), body_.size());  // read with the header
      asio::buffer_copy(asio::buffer(body_.data(), have), buffer_.data());
      buffer_.consume(have);
      body_read_ = have;
      return ReadBodySome();
    }
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&BasicConnection::OnRead, this->shared_from_this()));
  }

  void ReadBodySome() {
    if (body_read_ == body_.size()) {
      HttpRequest req = parser_->release();
      req.body() = std::move(body_);
      return Dispatch(std::move(req));
    }
    stream_.async_read_some(asio::buffer(body_.data() + body_read_, body_.size() - body_read_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->body_read_ += n;
                              if (ec) {
                                // The peer closed or the deadline passed before the whole body came.
                                BufferPool::Default()->Give(std::move(self->body_));
                                return self->Shutdown();
                              }
                              self->ReadBodySome();
                            });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return SendEarly(ErrorResponse(http::status::payload_too_large,
                                     Status::TooLarge("request body is over the limit of " +
                                                      std::to_string(server_->options_.max_body_bytes) + " bytes")));
    }
    if (ec == http::error::header_limit) {
      return SendEarly(ErrorResponse(http::status::request_header_fields_too_large,
                                     Status::InvalidArgument("request headers are over 64 KiB")));
    }
    // A malformed request gets a 400; a closed or timed-out connection just ends.
    static const auto& http_category = http::make_error_code(http::error::bad_method).category();
    if (ec.category() == http_category && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return SendEarly(ErrorResponse(http::status::bad_request,
                                     Status::InvalidArgument("malformed HTTP request: " + ec.message())));
    }
    Shutdown();
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Dispatch(parser_->release());
  }

  void Dispatch(HttpRequest req) {
    Disarm();  // the answer may wait for an fsync; no timer runs meanwhile
    keep_alive_ = req.keep_alive();
    // The peer's address for the handler (the audit trail's actor). Whatever a client
    // sent under this name is replaced, so handlers can trust it.
    req.erase(kRemoteAddrHeader);
    if (!remote_.empty()) req.set(kRemoteAddrHeader, remote_);
    {
      beast::error_code pec;
      auto peer = Socket().remote_endpoint(pec);
      req.set(kPeerAddressField, pec ? std::string("unknown") : peer.address().to_string());
    }
    if (server_->stopping_.load()) {
      close_after_ = true;
      return Write(ErrorResponse(http::status::service_unavailable, Status::Unavailable("server is shutting down")));
    }
    request_active_ = true;
    server_->RequestStarted();
    auto self = this->shared_from_this();
    Responder respond([self](HttpResponse res) {
      asio::post(self->Socket().get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
    try {
      server_->handler_(std::move(req), respond);
    } catch (const std::exception& e) {
      respond(ErrorResponse(http::status::internal_server_error, Status::Internal(e.what())));
    }
  }

  // Answers without having read the body, then closes.
  void SendEarly(HttpResponse res) {
    close_after_ = true;
    linger_ = true;
    Write(std::move(res));
  }

  void Write(HttpResponse res) {
    bool close = close_after_ || !keep_alive_ || server_->stopping_.load();
    res.version(version_);
    res.keep_alive(!close);
    res.set(http::field::server, "sightline");
    res.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(res));
    Arm(server_->options_.read_timeout);
    http::async_write(stream_, *response_, [self = this->shared_from_this(), close](beast::error_code ec, size_t) {
      self->OnWrite(close, ec);
    });
  }

  void OnWrite(bool close, beast::error_code ec) {
    response_.reset();
    if (request_active_) {
      request_active_ = false;
      server_->RequestFinished();
    }
    if (ec) return Shutdown();
    if (close) return linger_ ? Linger() : CloseGracefully();
    ReadHeader();
  }

  // Keeps reading and discarding for a while before closing (see kLingerTime). On a
  // plain socket the answer's end is signalled by shutting down the sending side; a
  // TLS client has the whole answer by its Content-Length and closes by itself.
  void Linger() {
    if (!kTls || raw_drain_) {
      beast::error_code ec;
      Socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    Arm(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    auto next = [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->Shutdown();
      self->DrainSome();
    };
    if constexpr (kTls) {
      if (!raw_drain_) return stream_.async_read_some(asio::buffer(drain_), std::move(next));
    }
    Socket().async_read_some(asio::buffer(drain_), std::move(next));
  }

  // After the last answer: TLS says close_notify first (bounded by a short deadline:
  // a client that never answers it costs no more), a plain socket just closes.
  void CloseGracefully() {
    if constexpr (kTls) {
      if (handshake_done_) {
        Arm(kTlsShutdownTime);
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Shutdown(); });
        return;
      }
    }
    Shutdown();
  }

  void Shutdown() {
    Disarm();
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
  }

  std::shared_ptr<tls::ServerTlsContext> tls_;  // TLS: the context the stream uses; before stream_
  Stream stream_;
  std::string remote_;  // "127.0.0.1:53211"
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  HttpServer* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string body_;  // a body read directly (ReadBody)
  size_t body_read_ = 0;
  std::shared_ptr<HttpResponse> response_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool linger_ = false;
  bool request_active_ = false;
  bool handshake_done_ = false;
  bool deadline_passed_ = false;  // the current phase's timer fired
  bool raw_drain_ = false;  // draining the TCP socket itself (plain HTTP refused on the TLS port)
  std::array<char, 16384> drain_{};
  size_t drained_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)), acceptor_(asio::make_strand(ioc_)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
}

Result<int> HttpServer::Start() {
  if (started_) return Status::Internal("HTTP server already started");
  beast::error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) return Status::InvalidArgument("HTTP address \"" + options_.address + "\": " + ec.message());
  tcp::endpoint ep(addr, static_cast<uint16_t>(options_.port));
  std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen for HTTP on " + where + ": " + ec.message());
  int port = acceptor_.local_endpoint(ec).port();
  started_ = true;
  work_.emplace(ioc_.get_executor());
  Accept();
  int n = options_.threads < 1 ? 1 : options_.threads;
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception&) {
          // A handler threw: the connection it belonged to is lost; keep serving.
        }
      }
    });
    NameThread(threads_.back(), "sl-http");
  }
  return port;
}

void HttpServer::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors and similar: back off instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(acceptor_.get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) {
        if (acceptor_.is_open()) Accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (options_.tls != nullptr) {
      auto conn = std::make_shared<BasicConnection<TlsStream>>(std::move(socket), this, options_.tls->Current());
      Register(conn);
      conn->Start();
    } else {
      auto conn = std::make_shared<BasicConnection<tcp::socket>>(std::move(socket), this, nullptr);
      Register(conn);
      conn->Start();
    }
    Accept();
  });
}

void HttpServer::RequestStarted() { in_flight_.fetch_add(1); }

void HttpServer::RequestFinished() {
  if (in_flight_.fetch_sub(1) == 1) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_cv_.notify_all();
  }
}

void HttpServer::Register(const std::shared_ptr<Connection>& c) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_.emplace(c.get(), c);
}

void HttpServer::Unregister(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_.erase(c);
  idle_cv_.notify_all();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait_for(lock, grace, [this] { return in_flight_.load() == 0; });
    for (auto& [ptr, weak] : connections_)
      if (auto c = weak.lock()) open.push_back(std::move(c));
  }
  for (auto& c : open) c->Close();
  open.clear();
  {
    // Closed connections end once their strands run; a connection still waiting on a
    // Responder (grace ran out) is left to the io_context's destruction.
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait_for(lock, std::chrono::seconds(3), [this] { return connections_.empty(); });
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace sightline::api
