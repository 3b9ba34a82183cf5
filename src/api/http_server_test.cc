// HttpServer on its own: answers from foreign threads, and graceful Stop.
#include "api/http_server.h"

#include <future>
#include <thread>

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
