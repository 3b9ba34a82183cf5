// URL parsing, query strings, and the client against a small local HTTP server.
#include "cli/http_client.h"

#include <atomic>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/otlp_sender.h"

namespace sightline::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

struct UrlCase {
  const char* text;
  bool ok;
  const char* host;
  int port;
  const char* prefix;
};

TEST(ParseUrl, Table) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:4318", true, "127.0.0.1", 4318, ""},
      {"http://127.0.0.1:4318/", true, "127.0.0.1", 4318, ""},
      {"http://localhost", true, "localhost", 80, ""},
      {"HTTP://Example.com:8080/sightline/", true, "Example.com", 8080, "/sightline"},
      {"localhost:4318", true, "localhost", 4318, ""},
      {"http://[::1]:4318/x/y", true, "::1", 4318, "/x/y"},
      {"https://example.com", true, "example.com", 443, ""},
      {"HTTPS://[::1]:8443/s", true, "::1", 8443, "/s"},
      {"ftp://example.com", false, "", 0, ""},
      {"http://:4318", false, "", 0, ""},
      {"http://host:0", false, "", 0, ""},
      {"http://host:65536", false, "", 0, ""},
      {"http://host:12ab", false, "", 0, ""},
      {"http://host:", false, "", 0, ""},
      {"http://host/a?b=c", false, "", 0, ""},
      {"http://user@host", false, "", 0, ""},
      {"http://[::1", false, "", 0, ""},
      {"", false, "", 0, ""},
  };
  for (const auto& c : cases) {
    auto u = ParseUrl(c.text);
    EXPECT_EQ(u.ok(), c.ok) << c.text;
    if (!u.ok()) {
      EXPECT_FALSE(u.status().message().empty());
      continue;
    }
    EXPECT_EQ(u->host, c.host) << c.text;
    EXPECT_EQ(u->port, c.port) << c.text;
    EXPECT_EQ(u->prefix, c.prefix) << c.text;
  }
  EXPECT_THAT(ParseUrl("ftp://x").status().message(), HasSubstr("scheme must be http or https"));
  EXPECT_EQ(ParseUrl("http://[::1]:9/p")->ToString(), "http://[::1]:9/p");
  EXPECT_FALSE(ParseUrl("http://x")->tls);
  EXPECT_TRUE(ParseUrl("https://x")->tls);
  EXPECT_EQ(ParseUrl("https://x")->ToString(), "https://x:443");
}

TEST(QueryString, EncodesKeysAndValues) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"session_id", "ticket 9421"}, {"attr.gen_ai.tool.name", "a&b=c/é"}}),
            "?session_id=ticket%209421&attr.gen_ai.tool.name=a%26b%3Dc%2F%C3%A9");
}

TEST(RetryAfter, Parses) {
  EXPECT_EQ(RetryAfterMs("3"), 3000);
  EXPECT_EQ(RetryAfterMs(" 0 "), 0);
  EXPECT_FALSE(RetryAfterMs("").has_value());
  EXPECT_FALSE(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
  EXPECT_FALSE(RetryAfterMs("-1").has_value());
}

// A one-thread HTTP/1.1 server on 127.0.0.1:0 that answers with a scripted handler and
// keeps connections alive. It serves until stopped.
class TestServer {
 public:
  using Handler = std::function<http::response<http::string_body>(const http::request<http::string_body>&)>;
  explicit TestServer(Handler h) : handler_(std::move(h)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
  }
  ~TestServer() {
    stop_ = true;
    beast::error_code ec;
    // Wake the blocking accept with a connection of our own.
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    s.close(ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  void Run() {
    while (!stop_) {
      tcp::socket sock(ioc_);
      beast::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) break;
      ++connections_;
      beast::flat_buffer buf;
      while (true) {
        http::request<http::string_body> req;
        http::read(sock, buf, req, ec);
        if (ec) break;
        ++requests_;
        auto res = handler_(req);
        res.version(11);
        res.keep_alive(res.keep_alive() && req.keep_alive());
        res.prepare_payload();
        http::write(sock, res, ec);
        if (ec || !req.keep_alive() || res.need_eof()) break;
      }
      sock.close(ec);
    }
  }
  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, requests_{0};
};

http::response<http::string_body> Answer(int status, std::string body) {
  http::response<http::string_body> res;
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

TEST(HttpClient, ReusesOneConnectionAndReturnsStatusBodyHeaders) {
  TestServer server([](const auto& req) {
    if (req.target() == "/pre/api/v1/traces/abc") return Answer(404, R"({"error":{"code":"not_found","message":"no trace abc"}})");
    auto res = Answer(200, "{\"method\":\"" + std::string(req.method_string()) + "\",\"body\":\"" + req.body() + "\"}");
    res.set("X-Target", std::string(req.target()));
    return res;
  });
  auto url = ParseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/pre");
  ASSERT_TRUE(url.ok());
  HttpClient client(*url);
  for (int i = 0; i < 3; ++i) {
    auto r = client.Get("/api/v1/traces?limit=5");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("x-target"), "/pre/api/v1/traces?limit=5");
  }
  auto p = client.Post("/v1/traces", "hello", "application/json");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->body, R"({"method":"POST","body":"hello"})");
  auto nf = client.Get("/api/v1/traces/abc");
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(ErrorMessageFromResponse(*nf), "no trace abc");
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ReconnectsWhenTheServerClosedTheConnection) {
  TestServer server([](const auto&) {
    auto res = Answer(200, "{}");
    res.keep_alive(false);
    return res;
  });
  HttpClient client(*ParseUrl("http://127.0.0.1:" + std::to_string(server.port())));
  for (int i = 0; i < 3; ++i) {
    auto r = client.Get("/healthz");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(client.connections_opened(), 3);
}

TEST(HttpClient, UnreachableServerIsAClearError) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  HttpClient client(*ParseUrl("http://127.0.0.1:" + std::to_string(port)));
  auto r = client.Get("/api/v1/traces");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot connect to http://127.0.0.1:" + std::to_string(port)));
}

TEST(SendOtlp, RetriesOverloadHonouringRetryAfterThenReadsPartialSuccess) {
  std::atomic<int> calls{0};
  TestServer server([&](const auto& req) {
    EXPECT_EQ(req[http::field::content_type], "application/x-protobuf");
    if (calls++ < 2) {
      auto res = Answer(429, R"({"error":{"code":"resource_exhausted","message":"queue full"}})");
      res.set("Retry-After", "2");
      return res;
    }
    ingest::ExportResponse resp;
    resp.mutable_partial_success()->set_rejected_spans(1);
    resp.mutable_partial_success()->set_error_message("span 3: invalid span id");
    auto res = Answer(200, resp.SerializeAsString());
    res.set(http::field::content_type, "application/x-protobuf");
    return res;
  });
  HttpClient client(*ParseUrl("http://127.0.0.1:" + std::to_string(server.port())));
  ingest::ExportRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 3; ++i) ss->add_spans()->set_name("s");
  std::vector<int64_t> slept;
  SendOptions o;
  o.sleep = [&](int64_t ms) { slept.push_back(ms); };
  SendResult r;
  ASSERT_TRUE(SendOtlp(client, req, o, &r).ok());
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(slept, (std::vector<int64_t>{2000, 2000}));
  EXPECT_EQ(r.sent_spans, 3);
  EXPECT_EQ(r.rejected_spans, 1);
  EXPECT_EQ(r.error_message, "span 3: invalid span id");
}

TEST(SendOtlp, ABadRequestIsNotRetried) {
  TestServer server([](const auto&) { return Answer(400, R"({"error":{"code":"invalid_argument","message":"bad body"}})"); });
  HttpClient client(*ParseUrl("http://127.0.0.1:" + std::to_string(server.port())));
  SendOptions o;
  o.sleep = [](int64_t) { FAIL() << "no retry expected"; };
  SendResult r;
  Status st = SendOtlp(client, ingest::ExportRequest(), o, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("HTTP 400: bad body"));
  EXPECT_EQ(r.attempts, 1);
}

TEST(SendOtlp, AnUnreachableServerFailsAfterAFewTries) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  HttpClient client(*ParseUrl("http://127.0.0.1:" + std::to_string(port)));
  SendOptions o;
  int sleeps = 0;
  o.sleep = [&](int64_t) { ++sleeps; };
  SendResult r;
  Status st = SendOtlp(client, ingest::ExportRequest(), o, &r);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(sleeps, 2);
}

}  // namespace
}  // namespace sightline::cli
