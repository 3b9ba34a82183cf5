#include "cli/http_client.h"

#include <charconv>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <rapidjson/document.h>

#include "tls/client_tls.h"

namespace sightline::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string Url::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (tls ? "https://" : "http://") + h + ":" + std::to_string(port) + prefix;
}

Result<Url> ParseUrl(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return Status::InvalidArgument("server URL is empty");
  bool tls = false;
  if (auto p = s.find("://"); p != std::string_view::npos) {
    std::string_view scheme = s.substr(0, p);
    tls = IEquals(scheme, "https");
    if (!tls && !IEquals(scheme, "http"))
      return Status::InvalidArgument("server URL '" + std::string(text) + "': scheme must be http or https");
    s.remove_prefix(p + 3);
  }
  if (s.find_first_of("?#") != std::string_view::npos)
    return Status::InvalidArgument("server URL '" + std::string(text) + "' must not have a query or fragment");
  Url url;
  url.tls = tls;
  url.port = tls ? 443 : 80;
  std::string_view authority = s.substr(0, s.find('/'));
  std::string_view path = authority.size() < s.size() ? s.substr(authority.size()) : std::string_view();
  if (authority.find('@') != std::string_view::npos)
    return Status::InvalidArgument("server URL '" + std::string(text) + "': user info is not supported");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidArgument("server URL '" + std::string(text) + "': unclosed '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Status::InvalidArgument("server URL '" + std::string(text) + "': junk after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return Status::InvalidArgument("server URL '" + std::string(text) + "': empty port");
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Status::InvalidArgument("server URL '" + std::string(text) + "': empty port");
    }
  }
  if (url.host.empty()) return Status::InvalidArgument("server URL '" + std::string(text) + "' has no host");
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535)
      return Status::InvalidArgument("server URL '" + std::string(text) + "': bad port '" +
                                     std::string(port_text) + "'");
    url.port = static_cast<uint16_t>(v);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.prefix = std::string(path);
  return url;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += out.empty() ? '?' : '&';
    out += UrlEncode(k);
    out += '=';
    out += UrlEncode(v);
  }
  return out;
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return v;
  return "";
}

// One connection: a TCP stream, or a TLS stream over one (https). At most one is set.
struct HttpClient::Impl {
  asio::io_context ioc;
  std::shared_ptr<asio::ssl::context> tls_context;  // made at the first https connection
  std::optional<beast::tcp_stream> stream;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::flat_buffer buffer;

  bool connected() const { return stream.has_value() || tls_stream.has_value(); }
  beast::tcp_stream& tcp() { return tls_stream ? beast::get_lowest_layer(*tls_stream) : *stream; }
  void Reset() {
    stream.reset();
    tls_stream.reset();
  }
};

HttpClient::HttpClient(Url base, HttpClientOptions options)
    : base_(std::move(base)), options_(options), impl_(std::make_unique<Impl>()) {}

HttpClient::~HttpClient() {
  if (impl_->connected()) {
    beast::error_code ec;
    impl_->tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

Status HttpClient::Connect() {
  impl_->Reset();
  impl_->buffer.clear();
  if (base_.tls && !impl_->tls_context) {
    auto ctx = tls::MakeClientContext(options_.ca_file, options_.cert_file, options_.key_file);
    if (!ctx.ok()) return ctx.status();
    impl_->tls_context = std::move(ctx).value();
  }
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(base_.host, std::to_string(base_.port), ec);
  if (ec) return Status::Unavailable("cannot resolve " + base_.ToString() + ": " + ec.message());
  if (base_.tls) {
    impl_->tls_stream.emplace(impl_->ioc, *impl_->tls_context);
    SL_RETURN_IF_ERROR(tls::PrepareClientConnection(impl_->tls_stream->native_handle(), base_.host));
  } else {
    impl_->stream.emplace(impl_->ioc);
  }
  impl_->tcp().expires_after(options_.connect_timeout);
  beast::error_code connect_ec = asio::error::would_block;
  impl_->tcp().async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { connect_ec = e; });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (connect_ec) {
    impl_->Reset();
    if (connect_ec == beast::error::timeout)
      return Status::Unavailable("cannot connect to " + base_.ToString() + ": timed out");
    return Status::Unavailable("cannot connect to " + base_.ToString() + ": " + connect_ec.message());
  }
  impl_->tcp().socket().set_option(tcp::no_delay(true), ec);
  if (base_.tls) {
    // The handshake verifies the chain and the host name (client_tls.h); the connect
    // timeout bounds it too.
    impl_->tcp().expires_after(options_.connect_timeout);
    beast::error_code hs_ec = asio::error::would_block;
    impl_->tls_stream->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { hs_ec = e; });
    impl_->ioc.restart();
    impl_->ioc.run();
    if (hs_ec) {
      std::string why = tls::VerifyFailure(impl_->tls_stream->native_handle());
      impl_->Reset();
      std::string msg = "TLS handshake with " + base_.ToString() + " failed: ";
      if (!why.empty()) {
        msg += "the server's certificate is not trusted: " + why;
        msg += options_.ca_file.empty() ? " (for a private CA pass --ca-cert FILE or set SIGHTLINE_CA_CERT)"
                                        : " (checked against " + options_.ca_file + ")";
      } else if (hs_ec == beast::error::timeout) {
        msg += "timed out";
      } else if (hs_ec.message().find("certificate required") != std::string::npos ||
                 hs_ec.message().find("handshake failure") != std::string::npos ||
                 hs_ec.message().find("unknown ca") != std::string::npos ||
                 hs_ec.message().find("bad certificate") != std::string::npos) {
        // The server refused us: it wants a client certificate it trusts (mutual TLS).
        msg += hs_ec.message();
        msg += options_.cert_file.empty()
                   ? " (the server may require a client certificate: pass --client-cert FILE --client-key FILE)"
                   : " (the server did not accept the client certificate " + options_.cert_file + ")";
      } else {
        msg += hs_ec.message();
        if (hs_ec.message().find("wrong version number") != std::string::npos)
          msg += " (is the server speaking plain http? then use an http:// URL)";
      }
      return Status::Unavailable(msg);
    }
  }
  ++connections_opened_;
  return Status::OK();
}

Result<HttpResponse> HttpClient::Exchange(std::string_view method, const std::string& target, std::string_view body,
                                          const std::vector<std::pair<std::string, std::string>>& headers,
                                          bool* sent_any) {
  *sent_any = false;
  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(target);
  req.version(11);
  std::string host_header = base_.host.find(':') != std::string::npos ? "[" + base_.host + "]" : base_.host;
  req.set(http::field::host, host_header + ":" + std::to_string(base_.port));
  req.set(http::field::user_agent, "sightline-cli");
  req.keep_alive(true);
  for (const auto& [k, v] : options_.default_headers) req.set(k, v);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (method != "GET" || !body.empty()) req.body() = std::string(body);
  req.prepare_payload();

  return impl_->tls_stream ? ExchangeOn(*impl_->tls_stream, req, target, sent_any)
                           : ExchangeOn(*impl_->stream, req, target, sent_any);
}

template <class Stream, class Message>
Result<HttpResponse> HttpClient::ExchangeOn(Stream& stream, const Message& req, const std::string& target,
                                            bool* sent_any) {
  impl_->tcp().expires_after(options_.request_timeout);
  beast::error_code write_ec = asio::error::would_block;
  http::async_write(stream, req, [&](beast::error_code e, size_t) { write_ec = e; });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (write_ec) {
    impl_->Reset();
    return Status::Unavailable("sending to " + base_.ToString() + ": " + write_ec.message());
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  parser.header_limit(64 * 1024);
  beast::error_code read_ec = asio::error::would_block;
  size_t read_bytes = 0;
  http::async_read(stream, impl_->buffer, parser, [&](beast::error_code e, size_t n) {
    read_ec = e;
    read_bytes = n;
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (read_ec) {
    *sent_any = read_bytes > 0;
    impl_->Reset();
    if (read_ec == beast::error::timeout)
      return Status::Unavailable("no answer from " + base_.ToString() + target + " within " +
                                 std::to_string(options_.request_timeout.count()) + " ms");
    *sent_any = read_bytes > 0 || read_ec == http::error::body_limit;
    return Status::Unavailable("reading the answer from " + base_.ToString() + target + ": " + read_ec.message());
  }
  auto res = parser.release();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(res.body());
  if (!res.keep_alive()) impl_->Reset();
  return out;
}

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target, std::string_view body,
                                         const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string full = base_.prefix + std::string(target);
  if (full.empty() || full.front() != '/') full.insert(full.begin(), '/');
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->connected();
    if (!reused) SL_RETURN_IF_ERROR(Connect());
    bool sent_any = false;
    auto r = Exchange(method, full, body, headers, &sent_any);
    if (r.ok()) return r;
    // A kept-alive connection the server closed while idle fails at once; try again
    // on a fresh one. A timeout or a partial answer is not retried.
    if (!reused || sent_any || r.status().message().find("no answer") != std::string::npos) return r;
  }
  return Status::Unavailable("cannot reach " + base_.ToString());
}

Result<HttpResponse> HttpClient::Get(std::string_view target) { return Request("GET", target, "", {}); }

Result<HttpResponse> HttpClient::Post(std::string_view target, std::string_view body, std::string_view content_type,
                                      const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  std::vector<std::pair<std::string, std::string>> headers = extra_headers;
  headers.emplace_back("Content-Type", std::string(content_type));
  return Request("POST", target, body, headers);
}

std::string ErrorMessageFromResponse(const HttpResponse& response) {
  rapidjson::Document doc;
  doc.Parse(response.body.data(), response.body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto e = doc.FindMember("error");
    if (e != doc.MemberEnd()) {
      if (e->value.IsObject()) {
        auto m = e->value.FindMember("message");
        if (m != e->value.MemberEnd() && m->value.IsString()) return m->value.GetString();
      } else if (e->value.IsString()) {
        return e->value.GetString();
      }
    }
  }
  std::string first = response.body.substr(0, response.body.find('\n'));
  if (first.size() > 200) first = first.substr(0, 200) + "...";
  if (!first.empty()) return first;
  return "HTTP " + std::to_string(response.status);
}

}  // namespace sightline::cli
