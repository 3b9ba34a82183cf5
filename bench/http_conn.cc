// HttpConn on Boost.Beast: async operations with tcp_stream deadlines, driven to
// completion on a per-connection io_context.
#include "http_conn.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sightline::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool ParseHttpUrl(std::string_view text, HttpUrl* out, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    *error = "URL must start with http:// (got '" + std::string(text) + "')";
    return false;
  }
  std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  out->target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  out->port = "80";
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:4318
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      *error = "URL has an unclosed '[': '" + std::string(text) + "'";
      return false;
    }
    out->host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') {
        *error = "URL has junk after the host: '" + std::string(text) + "'";
        return false;
      }
      out->port = std::string(hostport.substr(close + 2));
    }
  } else {
    const size_t colon = hostport.rfind(':');
    out->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) out->port = std::string(hostport.substr(colon + 1));
  }
  if (out->host.empty()) {
    *error = "URL has no host: '" + std::string(text) + "'";
    return false;
  }
  if (out->port.empty() || out->port.find_first_not_of("0123456789") != std::string::npos ||
      out->port.size() > 5) {
    *error = "URL has a bad port: '" + std::string(text) + "'";
    return false;
  }
  return true;
}

struct HttpConn::Impl {
  std::string host, port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the io_context until the started operation completes.
  void Drive() {
    ioc.restart();
    ioc.run();
  }

  bool Connect(std::string* error) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, port, ec);
    if (ec) {
      *error = "resolving " + host + ": " + ec.message();
      return false;
    }
    stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(timeout);
    stream->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Drive();
    if (ec) {
      *error = "connecting to " + host + ":" + port + ": " + ec.message();
      stream.reset();
      return false;
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    return true;
  }
};

HttpConn::HttpConn(std::string host, std::string port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::move(port);
  impl_->timeout = timeout;
}

HttpConn::~HttpConn() { Close(); }

void HttpConn::Close() {
  if (impl_->stream) {
    beast::error_code ec;
    impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    impl_->stream->socket().close(ec);
    impl_->stream.reset();
  }
}

bool HttpConn::Exchange(std::string_view method, std::string_view target, std::string_view content_type,
                        std::string_view content_encoding, std::string_view body, HttpReply* reply,
                        std::string* error) {
  Impl& m = *impl_;
  if (!m.stream && !m.Connect(error)) return false;

  http::request<http::span_body<const char>> req;
  req.method(method == "POST" ? http::verb::post : http::verb::get);
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, m.host + ":" + m.port);
  req.set(http::field::user_agent, "sightline-bench");
  if (!content_type.empty()) req.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  if (!content_encoding.empty())
    req.set(http::field::content_encoding, beast::string_view(content_encoding.data(), content_encoding.size()));
  req.keep_alive(true);
  req.body() = http::span_body<const char>::value_type(body.data(), body.size());
  req.prepare_payload();

  beast::error_code ec;
  m.stream->expires_after(m.timeout);
  http::async_write(*m.stream, req, [&](beast::error_code e, size_t) { ec = e; });
  m.Drive();
  if (ec) {
    *error = "sending to " + m.host + ":" + m.port + ": " + ec.message();
    Close();
    return false;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  m.stream->expires_after(m.timeout);
  http::async_read(*m.stream, m.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  m.Drive();
  if (ec) {
    *error = "reading from " + m.host + ":" + m.port + ": " + ec.message();
    Close();
    return false;
  }
  auto& res = parser.get();
  reply->status = static_cast<int>(res.result_int());
  reply->content_type = std::string(res[http::field::content_type]);
  reply->retry_after = std::string(res[http::field::retry_after]);
  reply->body = std::move(res.body());
  if (!res.keep_alive()) Close();
  return true;
}

}  // namespace sightline::bench
