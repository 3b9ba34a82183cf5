// HttpServer on its own: answers from foreign threads, and graceful Stop.
#include "api/http_server.h"

#include <chrono>
#include <future>
#include <thread>

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
  // A large body, read in many pieces within the deadline, is answered.
  EXPECT_EQ(Client(*port).Send(http::verb::post, "/v1/traces", std::string(300000, 'x')).body, "got 300000");
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
