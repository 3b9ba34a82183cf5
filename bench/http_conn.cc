// HttpConn on Boost.Beast's HTTP parser and serializer over a blocking socket whose
// reads and writes time out in the kernel (SO_RCVTIMEO/SO_SNDTIMEO).
#include "http_conn.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <cerrno>

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

// The socket after connecting, as Beast's SyncReadStream and SyncWriteStream: plain
// recv/sendmsg with the kernel's SO_RCVTIMEO/SO_SNDTIMEO as the deadline. Each read or
// write is one system call, with no reactor, no timer re-armed per read and no
// io_context in between (on this virtual machine a system call costs several
// microseconds: with async operations the load generator and the query bench spent
// more time in epoll and timerfd than in their own work, and a query's answer took
// three times as long to arrive as curl measured).
struct FdStream {
  int fd = -1;

  // errno after a failed recv/sendmsg: the kernel's SO_RCVTIMEO/SO_SNDTIMEO deadline
  // (EAGAIN) is a timeout.
  static beast::error_code LastSocketError() {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::timed_out;
    return beast::error_code(errno, boost::system::system_category());
  }

  // The throwing forms Beast's stream concepts also require.
  template <class Op>
  static size_t OrThrow(Op&& op) {
    beast::error_code ec;
    size_t n = op(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      for (;;) {
        const ssize_t n = ::recv(fd, b.data(), b.size(), 0);
        if (n > 0) {
          ec = {};
          return static_cast<size_t>(n);
        }
        if (n == 0) {
          ec = asio::error::eof;
          return 0;
        }
        if (errno == EINTR) continue;
        ec = LastSocketError();
        return 0;
      }
    }
    ec = {};
    return 0;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    return OrThrow([&](beast::error_code& ec) { return read_some(buffers, ec); });
  }

  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, beast::error_code& ec) {
    iovec iov[16];
    int count = 0;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && count < 16; ++it) {
      asio::const_buffer b = *it;
      if (b.size() == 0) continue;
      iov[count].iov_base = const_cast<void*>(b.data());
      iov[count].iov_len = b.size();
      ++count;
    }
    if (count == 0) {
      ec = {};
      return 0;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    for (;;) {
      const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
      if (n >= 0) {
        ec = {};
        return static_cast<size_t>(n);
      }
      if (errno == EINTR) continue;
      ec = LastSocketError();
      return 0;
    }
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    return OrThrow([&](beast::error_code& ec) { return write_some(buffers, ec); });
  }
};

struct HttpConn::Impl {
  std::string host, port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::unique_ptr<tcp::socket> socket;  // blocking, with SO_RCVTIMEO/SO_SNDTIMEO
  beast::flat_buffer buffer;

  // Connects with a deadline (an async connect on the private io_context), then keeps
  // the bare socket for blocking exchanges.
  bool Connect(std::string* error) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, port, ec);
    if (ec) {
      *error = "resolving " + host + ": " + ec.message();
      return false;
    }
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      *error = "connecting to " + host + ":" + port + ": " + ec.message();
      return false;
    }
    stream.expires_never();
    socket = std::make_unique<tcp::socket>(stream.release_socket());
    socket->set_option(tcp::no_delay(true), ec);
    socket->non_blocking(false, ec);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
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
  if (impl_->socket) {
    beast::error_code ec;
    impl_->socket->shutdown(tcp::socket::shutdown_both, ec);
    impl_->socket->close(ec);
    impl_->socket.reset();
  }
}

bool HttpConn::Exchange(std::string_view method, std::string_view target, std::string_view content_type,
                        std::string_view content_encoding, std::string_view body, HttpReply* reply,
                        std::string* error) {
  Impl& m = *impl_;
  if (!m.socket && !m.Connect(error)) return false;
  FdStream io{m.socket->native_handle()};

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
  http::write(io, req, ec);
  if (ec) {
    *error = "sending to " + m.host + ":" + m.port + ": " + ec.message();
    Close();
    return false;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  http::read(io, m.buffer, parser, ec);
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
