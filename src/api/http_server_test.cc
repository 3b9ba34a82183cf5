// HttpServer on its own: answers from foreign threads, and graceful Stop.
#include "api/http_server.h"

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include "api/api_test_util.h"

namespace sightline::api::testing {
namespace {

TEST(HttpServerTest, AnswerFromAnotherThreadAndStopWaitsForIt) {
  std::promise<Responder> held;
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(o, [&](HttpRequest&& req, Responder respond) {
    if (req.target() == "/hold") {
      held.set_value(respond);
      return;
    }
    HttpResponse res{http::status::ok, 11};
    res.body() = "now";
    respond(std::move(res));
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(Client(*port).Send(http::verb::get, "/x").body, "now");

  auto reply = std::async(std::launch::async, [&] { return Client(*port).Send(http::verb::get, "/hold"); });
  Responder respond = held.get_future().get();
  // The first request counts until the server's write of its answer completes, which
  // may come just after the client has read that answer.
  for (int i = 0; i < 400 && server.in_flight() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server.in_flight(), 1);
  // Stop must wait for the held request, which a store thread answers meanwhile.
  auto stopper = std::async(std::launch::async, [&] { server.Stop(std::chrono::seconds(20)); });
  EXPECT_EQ(stopper.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  std::thread store_thread([respond] {
    HttpResponse res{http::status::ok, 11};
    res.body() = "durable";
    respond(std::move(res));
    respond(HttpResponse{http::status::internal_server_error, 11});  // a second answer is ignored
  });
  store_thread.join();
  auto res = reply.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "durable");
  EXPECT_EQ(res.Header("connection"), "close");  // no keep-alive once stopping
  stopper.get();
  EXPECT_EQ(server.in_flight(), 0);
}

// Sends `prefix` on a raw connection, then stalls; returns how long the server took to
// close it (reading to EOF), and whatever it answered.
std::pair<std::chrono::milliseconds, std::string> StallAfter(int port, const std::string& prefix) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::write(sock, asio::buffer(prefix));
  auto start = std::chrono::steady_clock::now();
  std::string got;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) break;
  }
  return {std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start), got};
}

TEST(HttpServerTest, StalledRequestsAreClosedAtTheirDeadline) {
  HttpServerOptions o;
  o.port = 0;
  o.idle_timeout = std::chrono::seconds(1);
  o.read_timeout = std::chrono::seconds(1);
  HttpServer server(o, [](HttpRequest&& req, Responder respond) {
    HttpResponse res{http::status::ok, 11};
    res.body() = "got " + std::to_string(req.body().size());
    respond(std::move(res));
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  // Half a header line, then nothing: closed after the idle deadline, with no answer.
  auto [header_wait, header_answer] = StallAfter(*port, "POST /v1/traces HTT");
  EXPECT_GE(header_wait, std::chrono::milliseconds(900));
  EXPECT_LT(header_wait, std::chrono::milliseconds(5000));
  EXPECT_EQ(header_answer, "");
  // A body that stops halfway: closed at the read deadline.
  auto [body_wait, body_answer] =
      StallAfter(*port, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
  EXPECT_GE(body_wait, std::chrono::milliseconds(900));
  EXPECT_LT(body_wait, std::chrono::milliseconds(5000));
  EXPECT_EQ(body_answer, "");
  // A large body (read directly, not through the parser) that stops halfway: the same.
  auto [large_wait, large_answer] = StallAfter(
      *port, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + std::string(100000, 'y'));
  EXPECT_GE(large_wait, std::chrono::milliseconds(900));
  EXPECT_LT(large_wait, std::chrono::milliseconds(5000));
  EXPECT_EQ(large_answer, "");
  // A large body, read in many pieces within the deadline, is answered.
  EXPECT_EQ(Client(*port).Send(http::verb::post, "/v1/traces", std::string(300000, 'x')).body, "got 300000");
}

// Bodies of 64 KiB and more skip Beast's parser (read straight into one buffer): every
// byte arrives in order, and bytes after the body belong to the next request.
TEST(HttpServerTest, LargeBodiesAreReadWholeAndWhatFollowsIsTheNextRequest) {
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(o, [](HttpRequest&& req, Responder respond) {
    const std::string& b = req.body();
    uint64_t sum = 0;
    for (size_t i = 0; i < b.size(); ++i) sum = sum * 31 + static_cast<unsigned char>(b[i]);
    HttpResponse res{http::status::ok, 11};
    res.body() = std::string(req.target()) + " " + std::to_string(b.size()) + " " + std::to_string(sum);
    respond(std::move(res));
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  auto checksum = [](const std::string& b) {
    uint64_t sum = 0;
    for (char c : b) sum = sum * 31 + static_cast<unsigned char>(c);
    return std::to_string(sum);
  };
  std::string big(1 << 20, '\0'), edge(64 << 10, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  for (size_t i = 0; i < edge.size(); ++i) edge[i] = static_cast<char>(i * 13);
  auto post = [](const std::string& target, const std::string& body, const std::string& extra = "") {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  // Three requests in one write, so the header read takes some of each body with it.
  std::string wire = post("/big", big) + post("/small", "tiny") + post("/edge", edge);
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(*port)});
  asio::write(sock, asio::buffer(wire));
  std::string got;
  const std::vector<std::string> want = {"/big " + std::to_string(big.size()) + " " + checksum(big),
                                         "/small 4 " + checksum("tiny"),
                                         "/edge " + std::to_string(edge.size()) + " " + checksum(edge)};
  char buf[4096];
  boost::system::error_code ec;
  while (got.find(want.back()) == std::string::npos) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message() << " after: " << got;
    got.append(buf, n);
  }
  size_t at = 0;
  for (const auto& w : want) {
    size_t found = got.find(w, at);
    ASSERT_NE(found, std::string::npos) << w << " in " << got;
    at = found + w.size();
  }
  // And with Expect: 100-continue, the body sent after the interim answer.
  asio::write(sock, asio::buffer("POST /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                                 std::to_string(big.size()) + "\r\n\r\n"));
  got.clear();
  while (got.find("100 Continue") == std::string::npos) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message();
    got.append(buf, n);
  }
  asio::write(sock, asio::buffer(big));
  std::string expect = "/expect " + std::to_string(big.size()) + " " + checksum(big);
  while (got.find(expect) == std::string::npos) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message() << " after: " << got;
    got.append(buf, n);
  }
}

TEST(HttpServerTest, BindFailureIsAnError) {
  HttpServerOptions o;
  o.port = 0;
  HttpServer first(o, [](HttpRequest&&, Responder r) { r(HttpResponse{http::status::ok, 11}); });
  auto port = first.Start();
  ASSERT_TRUE(port.ok());
  o.port = *port;
  HttpServer second(o, [](HttpRequest&&, Responder r) { r(HttpResponse{http::status::ok, 11}); });
  auto again = second.Start();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find(std::to_string(*port)), std::string::npos);
}

}  // namespace
}  // namespace sightline::api::testing
