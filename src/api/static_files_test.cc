// The web UI's static serving: StaticFiles alone (loading, content types, caching,
// gzip, app-path fallback), then through the router on a real server (routes beside
// the API, deep links, POST /api/v1/demo).
#include "api/static_files.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "ingest/otlp_decode.h"

namespace sightline::api::testing {
namespace {

namespace fs = std::filesystem;

const std::string kIndexHtml = "<!doctype html><title>Sightline</title><div id=root></div>";

// A throwaway UI build: index.html, a big script (worth compressing), a stylesheet.
class UiDir {
 public:
  UiDir() {
    static int n = 0;
    dir_ = fs::temp_directory_path() / ("sightline_ui_test_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "assets");
  }
  ~UiDir() { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& body) {
    std::ofstream(dir_ / rel, std::ios::binary) << body;
  }
  void WriteStandard() {
    Write("index.html", kIndexHtml);
    Write("assets/index-abc123.js", Script());
    Write("assets/index-abc123.css", "body{color:red}");
  }
  static std::string Script() {
    std::string js;
    for (int i = 0; i < 400; ++i) js += "console.log('sightline " + std::to_string(i) + "');\n";
    return js;
  }
  std::string path() const { return dir_.string(); }

 private:
  fs::path dir_;
};

TEST(StaticFilesTest, LoadNeedsAFolderWithIndexHtml) {
  auto missing = StaticFiles::Load("/nonexistent/sightline/ui");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/sightline/ui"), std::string::npos);

  UiDir dir;
  dir.Write("assets/app.js", "x");
  auto no_index = StaticFiles::Load(dir.path());
  ASSERT_FALSE(no_index.ok());
  EXPECT_NE(no_index.status().message().find("index.html"), std::string::npos);
}

TEST(StaticFilesTest, ServesFilesAndFallsBackToIndexForAppPaths) {
  UiDir dir;
  dir.WriteStandard();
  auto ui = StaticFiles::Load(dir.path());
  ASSERT_TRUE(ui.ok()) << ui.status().ToString();
  EXPECT_EQ((*ui)->file_count(), 3u);

  struct Case {
    std::vector<std::string> path;
    int status;
    std::string type_prefix;
    std::string body_start;
    std::string cache;
  };
  const std::vector<Case> cases = {
      {{}, 200, "text/html", "<!doctype html>", "no-cache"},
      {{"index.html"}, 200, "text/html", "<!doctype html>", "no-cache"},
      {{"traces", "4bf92f3577b34da6a3ce929d0e0e4736"}, 200, "text/html", "<!doctype html>", "no-cache"},
      {{"sessions", "ticket.9421"}, 200, "text/html", "<!doctype html>", "no-cache"},
      {{"sessions"}, 200, "text/html", "<!doctype html>", "no-cache"},
      {{"assets", "index-abc123.js"}, 200, "text/javascript", "console.log", "public, max-age=31536000, immutable"},
      {{"assets", "index-abc123.css"}, 200, "text/css", "body{", "public, max-age=31536000, immutable"},
      {{"assets", "index-old999.js"}, 404, "text/plain", "not found", ""},
      {{"favicon.ico"}, 404, "text/plain", "not found", ""},
      {{"assets", "..", "index.html"}, 404, "text/plain", "not found", ""},
  };
  for (const auto& c : cases) {
    std::string name;
    for (const auto& s : c.path) name += "/" + s;
    SCOPED_TRACE(name.empty() ? "/" : name);
    HttpResponse res = (*ui)->Serve(c.path, "");
    EXPECT_EQ(res.result_int(), c.status);
    EXPECT_EQ(std::string(res[http::field::content_type]).rfind(c.type_prefix, 0), 0u)
        << res[http::field::content_type];
    EXPECT_EQ(res.body().rfind(c.body_start, 0), 0u) << res.body().substr(0, 80);
    EXPECT_EQ(std::string(res[http::field::cache_control]), c.cache);
  }
}

TEST(StaticFilesTest, GzipOnlyWhenAcceptedAndItRoundTrips) {
  UiDir dir;
  dir.WriteStandard();
  auto ui = StaticFiles::Load(dir.path());
  ASSERT_TRUE(ui.ok());
  const std::vector<std::string> js = {"assets", "index-abc123.js"};

  HttpResponse plain = (*ui)->Serve(js, "");
  EXPECT_EQ(std::string(plain[http::field::content_encoding]), "");
  EXPECT_EQ(plain.body(), UiDir::Script());
  EXPECT_EQ(std::string(plain[http::field::vary]), "Accept-Encoding");

  HttpResponse zipped = (*ui)->Serve(js, "gzip, deflate, br");
  EXPECT_EQ(std::string(zipped[http::field::content_encoding]), "gzip");
  EXPECT_LT(zipped.body().size(), UiDir::Script().size());
  auto inflated = ingest::GunzipBounded(zipped.body(), 1 << 20);
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(*inflated, UiDir::Script());

  // Small files are not worth it: sent as they are, whatever the client accepts.
  HttpResponse css = (*ui)->Serve({"assets", "index-abc123.css"}, "gzip");
  EXPECT_EQ(std::string(css[http::field::content_encoding]), "");
  EXPECT_EQ(css.body(), "body{color:red}");
}

TEST(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(ContentTypeFor("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("x.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("noext"), "application/octet-stream");
}

// The router with a UI: app paths get the app, the API keeps its JSON answers.
class UiRoutesTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    ui_dir_.WriteStandard();
    auto ui = StaticFiles::Load(ui_dir_.path());
    ASSERT_TRUE(ui.ok()) << ui.status().ToString();
    RouterOptions ro;
    ro.ui = std::shared_ptr<const StaticFiles>(std::move(ui).value());
    // No request has reached the fixture's router yet; the server's handler reads
    // router_ on every request, so swapping it here is safe.
    router_->Shutdown();
    router_ = std::make_unique<ApiRouter>(store_.get(), ingest_.get(), &metrics_, ro);
  }
  UiDir ui_dir_;
};

TEST_F(UiRoutesTest, AppPathsServeTheAppAndApiPathsStayJson) {
  struct Case {
    std::string target;
    int status;
    std::string type_prefix;
  };
  const std::vector<Case> cases = {
      {"/", 200, "text/html"},
      {"/traces/4bf92f3577b34da6a3ce929d0e0e4736?span=00f067aa0ba902b7", 200, "text/html"},
      {"/sessions/ticket-9421", 200, "text/html"},
      {"/sessions/ticket%2F9421", 200, "text/html"},
      {"/?status=error&range=24h", 200, "text/html"},
      {"/assets/index-abc123.js", 200, "text/javascript"},
      {"/assets/missing.js", 404, "text/plain"},
      {"/api/v1/nothing-here", 404, "application/json"},
      {"/api/v1/traces/zz", 400, "application/json"},
      {"/api/v1/traces", 200, "application/json"},
      {"/v1/traces", 405, "application/json"},
      {"/healthz", 200, "application/json"},
      {"/metrics", 200, "text/plain"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    auto res = Get(c.target);
    EXPECT_EQ(res.status, c.status) << res.body.substr(0, 200);
    EXPECT_EQ(res.Header("content-type").rfind(c.type_prefix, 0), 0u) << res.Header("content-type");
  }
  EXPECT_EQ(Get("/traces/abc").body, kIndexHtml);
  // Routes are counted under one label, whatever the path.
  auto metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find(R"(route="/ui")"), std::string::npos);
}

TEST_F(UiRoutesTest, DemoEndpointIngestsTheDemoRun) {
  auto wrong = Get("/api/v1/demo");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "POST");

  auto res = Client(port_).Send(http::verb::post, "/api/v1/demo");
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  EXPECT_GT(doc["accepted_spans"].GetInt64(), 10);
  EXPECT_EQ(doc["rejected_spans"].GetInt64(), 0);
  ASSERT_EQ(doc["traces"].Size(), 2u);
  EXPECT_STREQ(doc["traces"][0]["session_id"].GetString(), "ticket-9421");

  // Acknowledged means durable and readable: the session and both traces are there.
  auto session = Get("/api/v1/sessions/ticket-9421");
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(ParseJson(session.body)["traces"].Size(), 2u);
  std::string first = doc["traces"][0]["trace_id"].GetString();
  auto trace = Get("/api/v1/traces/" + first);
  ASSERT_EQ(trace.status, 200) << trace.body.substr(0, 300);
  EXPECT_GT(ParseJson(trace.body)["spans"].Size(), 5u);
}

TEST_F(UiRoutesTest, DemoEndpointReportsAStoreThatRefuses) {
  store_->Refuse(Status::Unavailable("store is closing"));
  auto res = Client(port_).Send(http::verb::post, "/api/v1/demo");
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.Header("retry-after"), "1");
  EXPECT_NE(res.body.find("store is closing"), std::string::npos);
}

}  // namespace
}  // namespace sightline::api::testing
