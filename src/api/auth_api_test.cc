// Authentication and project isolation through the HTTP API (docs/auth.md): a matrix
// of callers (none, a wrong key, each project's key, users' tokens) against every
// route that reads or writes, proving that nothing of one project is readable with
// another's credentials and that a refusal never tells whether a project or id exists.
#include <gmock/gmock.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "api/api_test_util.h"
#include "audit/audit_reader.h"
#include "auth/authenticator.h"

namespace sightline::api::testing {
namespace {

std::string Basic(const std::string& user, const std::string& pass) {
  std::string in = user + ":" + pass;
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

class AuthApiTest : public ServerFixture {
 protected:
  auth::Authenticator* Auth() override { return authn_.get(); }
  virtual auth::Authenticator::Options AuthOptions() { return {}; }

  void SetUp() override {
    static std::atomic<int> n{0};
    meta_dir_ = std::filesystem::temp_directory_path() /
                ("sightline_auth_api_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    // A directory of this name is left by an earlier process that had this pid and
    // died before its TearDown: stale, never ours.
    std::filesystem::remove_all(meta_dir_);
    std::filesystem::create_directories(meta_dir_);
    admin_ = OpenDb();
    ASSERT_TRUE(admin_->CreateProject("alpha").ok());
    ASSERT_TRUE(admin_->CreateProject("beta").ok());
    key_a_ = std::move(admin_->CreateApiKey("alpha", "a")).value();
    key_b_ = std::move(admin_->CreateApiKey("beta", "b")).value();
    ASSERT_TRUE(admin_->CreateUser("ana", "").ok());
    ASSERT_TRUE(admin_->SetRole("ana", "alpha", auth::Role::kViewer).ok());
    ASSERT_TRUE(admin_->CreateUser("bob", "").ok());  // no project at all
    ASSERT_TRUE(admin_->CreateUser("carol", "carol-password").ok());
    ASSERT_TRUE(admin_->SetRole("carol", "beta", auth::Role::kMember).ok());
    token_ana_ = std::move(admin_->CreateToken("ana", "t")).value().secret;
    token_bob_ = std::move(admin_->CreateToken("bob", "t")).value().secret;
    authn_ = std::make_unique<auth::Authenticator>(OpenDb(), AuthOptions());
    ASSERT_TRUE(authn_->Refresh().ok());
    ServerFixture::SetUp();

    // One trace per project, each sent with its project's key. Alpha's request also
    // names beta by header and resource: the key wins.
    SpanSpec a(TraceId(1), SpanId(1), "", "alpha-root");
    a.attrs = {{"openinference.span.kind", "AGENT"}, {"session.id", "sess-alpha"}, {"agent.name", "agent-a"}};
    auto req_a = MakeRequest({a});
    auto* kv = req_a.mutable_resource_spans(0)->mutable_resource()->add_attributes();
    kv->set_key("openinference.project.name");
    kv->mutable_value()->set_string_value("beta");
    ASSERT_EQ(PostProtobuf(req_a, {{"Authorization", "Bearer " + key_a_.secret}, {"x-sightline-project", "beta"}}).status,
              200);
    SpanSpec b(TraceId(2), SpanId(2), "", "beta-root");
    b.attrs = {{"openinference.span.kind", "AGENT"}, {"session.id", "sess-beta"}, {"agent.name", "agent-b"}};
    ASSERT_EQ(PostProtobuf(MakeRequest({b}), {{"x-sightline-api-key", key_b_.secret}}).status, 200);
  }

  void TearDown() override {
    ServerFixture::TearDown();
    authn_.reset();
    admin_.reset();
    std::filesystem::remove_all(meta_dir_);
  }

  std::unique_ptr<auth::MetadataDb> OpenDb() {
    auth::MetadataDb::Options o;
    o.iterations = 1000;
    return std::move(auth::MetadataDb::Open((meta_dir_ / "meta.db").string(), o)).value();
  }

  ClientResponse GetAs(const std::string& target, const std::string& secret) {
    std::map<std::string, std::string> h;
    if (!secret.empty()) h["Authorization"] = "Bearer " + secret;
    return Client(port_).Send(http::verb::get, target, "", h);
  }

  static std::string TraceHex(int n) { return HexEncode(TraceId(n)); }
  static std::string SpanHex(int n) { return HexEncode(SpanId(n)); }

  std::filesystem::path meta_dir_;
  std::unique_ptr<auth::MetadataDb> admin_;
  std::unique_ptr<auth::Authenticator> authn_;
  auth::NewApiKey key_a_, key_b_;
  std::string token_ana_, token_bob_;
};

// Every route that needs a caller, and a body for the ones that write.
struct RouteCase {
  http::verb method;
  std::string target;
};

std::vector<RouteCase> GuardedRoutes(const std::string& trace, const std::string& span) {
  return {
      {http::verb::get, "/api/v1/traces"},
      {http::verb::get, "/api/v1/traces/" + trace},
      {http::verb::get, "/api/v1/traces/" + trace + "/spans/" + span},
      {http::verb::get, "/api/v1/sessions"},
      {http::verb::get, "/api/v1/sessions/sess-alpha"},
      {http::verb::get, "/api/v1/metrics/overview"},
      {http::verb::get, "/api/v1/metrics/top?by=agent"},
      {http::verb::get, "/api/v1/pricing/models"},
      {http::verb::get, "/api/v1/pricing/unpriced"},
      {http::verb::get, "/metrics"},
      {http::verb::post, "/api/v1/demo"},
      {http::verb::post, "/v1/traces"},
      {http::verb::post, "/api/public/otel/v1/traces"},
  };
}

TEST_F(AuthApiTest, EveryGuardedRouteAnswers401AlikeWithoutAValidCredential) {
  std::string wrong = key_a_.secret;
  wrong.back() = wrong.back() == 'x' ? 'y' : 'x';
  const std::vector<std::map<std::string, std::string>> bad = {
      {},
      {{"Authorization", "Bearer " + wrong}},
      {{"Authorization", "Bearer sk-lf-000000000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
      {{"x-sightline-api-key", "nonsense"}},
      {{"Authorization", Basic(key_b_.info.public_key, key_a_.secret)}},
  };
  std::string first_body;
  // An existing id and a made-up one must be refused identically.
  for (int trace : {1, 99}) {
    for (const auto& route : GuardedRoutes(TraceHex(trace), SpanHex(trace))) {
      for (const auto& headers : bad) {
        auto h = headers;
        std::string body;
        if (route.method == http::verb::post) {
          h["Content-Type"] = "application/x-protobuf";
          body = MakeRequest({SpanSpec(TraceId(50), SpanId(50))}).SerializeAsString();
        }
        auto res = Client(port_).Send(route.method, route.target, body, h);
        EXPECT_EQ(res.status, 401) << route.target;
        EXPECT_EQ(res.Header("www-authenticate"), "Bearer realm=\"sightline\"") << route.target;
        if (first_body.empty()) first_body = res.body;
        EXPECT_EQ(res.body, first_body) << route.target;
      }
    }
  }
  auto doc = ParseJson(first_body);
  EXPECT_STREQ(doc["error"]["code"].GetString(), "unauthenticated");
  // Nothing was written by the refused requests.
  EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(50), key_a_.secret).status, 404);
}

TEST_F(AuthApiTest, OpenRoutesStayOpen) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Get("/").status, 200);
  auto st = Get("/api/v1/auth/status");
  ASSERT_EQ(st.status, 200);
  auto doc = ParseJson(st.body);
  EXPECT_STREQ(doc["mode"].GetString(), "required");
  EXPECT_FALSE(doc["authenticated"].GetBool());
  EXPECT_FALSE(doc.HasMember("projects"));
  auto mine = ParseJson(GetAs("/api/v1/auth/status", token_ana_).body);
  EXPECT_TRUE(mine["authenticated"].GetBool());
  EXPECT_STREQ(mine["kind"].GetString(), "token");
  EXPECT_STREQ(mine["subject"].GetString(), "ana");
  ASSERT_EQ(mine["projects"].Size(), 1u);
  EXPECT_STREQ(mine["projects"][0]["name"].GetString(), "alpha");
  EXPECT_STREQ(mine["projects"][0]["role"].GetString(), "viewer");
}

TEST_F(AuthApiTest, TheKeysProjectWinsOverHeaderAndResource) {
  auto res = GetAs("/api/v1/traces/" + TraceHex(1), key_a_.secret);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_STREQ(ParseJson(res.body)["trace"]["project"].GetString(), "alpha");
}

TEST_F(AuthApiTest, NoCrossProjectReadThroughAnyEndpoint) {
  // (caller, own trace, other trace, own session, other session, own project, other project)
  struct Who {
    std::string name, secret;
    int own, other;
    std::string own_session, other_session, own_project, other_project;
  };
  const std::vector<Who> callers = {
      {"alpha key", key_a_.secret, 1, 2, "sess-alpha", "sess-beta", "alpha", "beta"},
      {"beta key", key_b_.secret, 2, 1, "sess-beta", "sess-alpha", "beta", "alpha"},
      {"ana's token (viewer on alpha)", token_ana_, 1, 2, "sess-alpha", "sess-beta", "alpha", "beta"},
  };
  const std::string not_found_trace = GetAs("/api/v1/traces/" + TraceHex(77), key_a_.secret).body;
  const std::string not_found_session = GetAs("/api/v1/sessions/nope", key_a_.secret).body;
  for (const auto& c : callers) {
    SCOPED_TRACE(c.name);
    // Search: only the own trace, with or without naming a project.
    for (const std::string& q : {std::string(""), "?project=" + c.other_project, "?project=" + c.own_project}) {
      auto res = GetAs("/api/v1/traces" + q, c.secret);
      ASSERT_EQ(res.status, 200) << q;
      auto d = ParseJson(res.body);
      for (const auto& t : d["traces"].GetArray()) EXPECT_STREQ(t["project"].GetString(), c.own_project.c_str()) << q;
      EXPECT_EQ(d["traces"].Size(), q.find(c.other_project) != std::string::npos ? 0u : 1u) << q;
    }
    // Details: the other project's ids answer exactly like ids that do not exist.
    EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(c.own), c.secret).status, 200);
    auto other = GetAs("/api/v1/traces/" + TraceHex(c.other), c.secret);
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(other.body, not_found_trace);
    auto other_named = GetAs("/api/v1/traces/" + TraceHex(c.other) + "?project=" + c.other_project, c.secret);
    EXPECT_EQ(other_named.status, 404);
    EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(c.own) + "/spans/" + SpanHex(c.own), c.secret).status, 200);
    auto other_span = GetAs("/api/v1/traces/" + TraceHex(c.other) + "/spans/" + SpanHex(c.other), c.secret);
    EXPECT_EQ(other_span.status, 404);
    EXPECT_EQ(other_span.body, not_found_trace);
    // Sessions.
    auto sessions = ParseJson(GetAs("/api/v1/sessions", c.secret).body);
    ASSERT_EQ(sessions["sessions"].Size(), 1u);
    EXPECT_STREQ(sessions["sessions"][0]["session_id"].GetString(), c.own_session.c_str());
    EXPECT_EQ(ParseJson(GetAs("/api/v1/sessions?project=" + c.other_project, c.secret).body)["sessions"].Size(), 0u);
    EXPECT_EQ(GetAs("/api/v1/sessions/" + c.own_session, c.secret).status, 200);
    auto other_session = GetAs("/api/v1/sessions/" + c.other_session, c.secret);
    EXPECT_EQ(other_session.status, 404);
    EXPECT_EQ(other_session.body, not_found_session);
    // Metrics API: counts only the own project's runs.
    auto ov = ParseJson(GetAs("/api/v1/metrics/overview", c.secret).body);
    EXPECT_EQ(ov["runs"]["count"].GetInt(), 1);
    auto ov_other = ParseJson(GetAs("/api/v1/metrics/overview?project=" + c.other_project, c.secret).body);
    EXPECT_EQ(ov_other["runs"]["count"].GetInt(), 0);
    auto top = GetAs("/api/v1/metrics/top?by=agent", c.secret);
    ASSERT_EQ(top.status, 200);
    EXPECT_EQ(top.body.find(c.own == 1 ? "agent-b" : "agent-a"), std::string::npos) << top.body;
    // /metrics: no sample labelled with the other project.
    auto prom = GetAs("/metrics", c.secret);
    ASSERT_EQ(prom.status, 200);
    EXPECT_EQ(prom.body.find("project=\"" + c.other_project + "\""), std::string::npos);
    EXPECT_NE(prom.body.find("project=\"" + c.own_project + "\""), std::string::npos);
    EXPECT_NE(prom.body.find("sightline_http_requests_total"), std::string::npos);  // server-wide stays
  }
}

// Routes that arrived beside auth: a deletion names its project and needs the admin
// role there (a key or a viewer may not delete), the audit trail (not divided by
// project) is not served while auth is on, and the deletion list needs a caller.
TEST_F(AuthApiTest, DeletionNeedsAdminInItsProjectAndTheAuditRouteIsClosed) {
  auto del = [this](const std::string& target, const std::string& secret) {
    return Client(port_).Send(http::verb::delete_, target, "", {{"Authorization", "Bearer " + secret}}).status;
  };
  EXPECT_EQ(del("/api/v1/users/u1?project=alpha", token_ana_), 403);     // a viewer
  EXPECT_EQ(del("/api/v1/users/u1?project=alpha", key_a_.secret), 403);  // a key
  EXPECT_EQ(Client(port_).Send(http::verb::delete_, "/api/v1/users/u1?project=alpha", "", {}).status, 401);
  ASSERT_TRUE(admin_->SetRole("ana", "alpha", auth::Role::kAdmin).ok());
  ASSERT_TRUE(authn_->Refresh().ok());
  EXPECT_EQ(del("/api/v1/users/u1", token_ana_), 400);  // no project named
  EXPECT_EQ(del("/api/v1/sessions/sess-alpha?project=beta", token_ana_), 403);  // not hers
  EXPECT_EQ(del("/api/v1/sessions/sess-alpha?project=alpha", token_ana_), 200);
  EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(1), token_ana_).status, 404);  // gone
  EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(2), key_b_.secret).status, 200);  // beta's stays
  EXPECT_EQ(GetAs("/api/v1/deletions", "").status, 401);
  EXPECT_EQ(ParseJson(GetAs("/api/v1/deletions", token_ana_).body)["deletions"].Size(), 1u);
  EXPECT_EQ(GetAs("/api/v1/deletions", key_b_.secret).status, 403);  // deletions are admin business
  EXPECT_EQ(GetAs("/api/v1/audit", token_ana_).status, 403);
  EXPECT_EQ(GetAs("/api/v1/audit", "").status, 401);
}

TEST_F(AuthApiTest, AUserWithNoProjectSeesNothing) {
  auto d = ParseJson(GetAs("/api/v1/traces", token_bob_).body);
  EXPECT_EQ(d["traces"].Size(), 0u);
  EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(1), token_bob_).status, 404);
  EXPECT_EQ(ParseJson(GetAs("/api/v1/sessions", token_bob_).body)["sessions"].Size(), 0u);
  EXPECT_EQ(ParseJson(GetAs("/api/v1/metrics/overview", token_bob_).body)["runs"]["count"].GetInt(), 0);
  EXPECT_EQ(GetAs("/metrics", token_bob_).body.find("project=\""), std::string::npos);
}

TEST_F(AuthApiTest, TokensReadButDoNotWrite) {
  auto res = PostProtobuf(MakeRequest({SpanSpec(TraceId(60), SpanId(60))}), {{"Authorization", "Bearer " + token_ana_}});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/demo", "", {{"Authorization", "Bearer " + token_ana_}}).status,
            403);
}

TEST_F(AuthApiTest, LangfuseBasicAuthPairIngestsIntoItsProject) {
  auto body = MakeRequest({SpanSpec(TraceId(70), SpanId(70))}).SerializeAsString();
  auto res = Client(port_).Send(http::verb::post, "/api/public/otel/v1/traces", body,
                                {{"Content-Type", "application/x-protobuf"},
                                 {"Authorization", Basic(key_b_.info.public_key, key_b_.secret)}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto t = GetAs("/api/v1/traces/" + TraceHex(70), key_b_.secret);
  ASSERT_EQ(t.status, 200);
  EXPECT_STREQ(ParseJson(t.body)["trace"]["project"].GetString(), "beta");
  EXPECT_EQ(GetAs("/api/v1/traces/" + TraceHex(70), key_a_.secret).status, 404);
}

TEST_F(AuthApiTest, RevokedKeyIsRefusedAfterRefresh) {
  ASSERT_EQ(GetAs("/api/v1/traces", key_a_.secret).status, 200);
  ASSERT_TRUE(admin_->RevokeApiKey(key_a_.info.public_key).ok());
  ASSERT_TRUE(authn_->MaybeRefresh().ok());
  EXPECT_EQ(GetAs("/api/v1/traces", key_a_.secret).status, 401);
  auto res = PostProtobuf(MakeRequest({SpanSpec(TraceId(80), SpanId(80))}), {{"x-sightline-api-key", key_a_.secret}});
  EXPECT_EQ(res.status, 401);
}

TEST_F(AuthApiTest, HotPathUsesTheCache) {
  uint64_t slow = authn_->slow_verifications();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(GetAs("/api/v1/traces", key_b_.secret).status, 200);
  EXPECT_EQ(authn_->slow_verifications(), slow);  // verified once, in SetUp
}

// The web UI's password login: a session cookie, CSRF on POSTs, rate limiting.
TEST_F(AuthApiTest, LoginSessionCookieAndCsrf) {
  auto login = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                  R"({"user":"carol","password":"carol-password"})",
                                  {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string csrf = ParseJson(login.body)["csrf_token"].GetString();
  // Beast's client joins repeated headers; find the session cookie in what came back.
  std::string set_cookie = login.Header("set-cookie");
  size_t at = set_cookie.find("sl_session=");
  ASSERT_NE(at, std::string::npos) << set_cookie;
  std::string session = set_cookie.substr(at + 11, 64);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "no TLS, no Secure: " << set_cookie;
  const std::string cookie = "sl_session=" + session + "; sl_csrf=" + csrf;

  auto traces = Client(port_).Send(http::verb::get, "/api/v1/traces", "", {{"Cookie", cookie}});
  ASSERT_EQ(traces.status, 200);
  auto d = ParseJson(traces.body);
  ASSERT_EQ(d["traces"].Size(), 1u);
  EXPECT_STREQ(d["traces"][0]["project"].GetString(), "beta");
  EXPECT_EQ(Client(port_).Send(http::verb::get, "/api/v1/traces/" + TraceHex(1), "", {{"Cookie", cookie}}).status, 404);
  auto st = ParseJson(Client(port_).Send(http::verb::get, "/api/v1/auth/status", "", {{"Cookie", cookie}}).body);
  EXPECT_STREQ(st["kind"].GetString(), "session");

  // A POST riding on the cookie alone (what a cross-site form would send) is refused.
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/auth/logout", "", {{"Cookie", cookie}}).status, 403);
  EXPECT_EQ(Client(port_)
                .Send(http::verb::post, "/api/v1/auth/logout", "", {{"Cookie", cookie}, {"x-csrf-token", "nope"}})
                .status,
            403);
  auto out = Client(port_).Send(http::verb::post, "/api/v1/auth/logout", "", {{"Cookie", cookie}, {"x-csrf-token", csrf}});
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(Client(port_).Send(http::verb::get, "/api/v1/traces", "", {{"Cookie", cookie}}).status, 401);
}

// Under TLS both login cookies, and the logout's clearing ones, are Secure.
class TlsAuthApiTest : public AuthApiTest {
 protected:
  bool RouterSaysTls() override { return true; }
};

TEST_F(TlsAuthApiTest, CookiesAreSecureAndTheStatusSaysTls) {
  auto login = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                  R"({"user":"carol","password":"carol-password"})",
                                  {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string set_cookie = login.Header("set-cookie");  // both cookies, joined by ", "
  size_t session_at = set_cookie.find("sl_session=");
  size_t csrf_at = set_cookie.find("sl_csrf=");
  ASSERT_NE(session_at, std::string::npos) << set_cookie;
  ASSERT_NE(csrf_at, std::string::npos) << set_cookie;
  auto cookie_text = [&](size_t at) { return set_cookie.substr(at, set_cookie.find(", sl_", at + 1) - at); };
  EXPECT_NE(cookie_text(session_at).find("; Secure"), std::string::npos) << set_cookie;
  EXPECT_NE(cookie_text(csrf_at).find("; Secure"), std::string::npos) << set_cookie;
  std::string csrf = ParseJson(login.body)["csrf_token"].GetString();
  std::string session = set_cookie.substr(session_at + 11, 64);
  auto out = Client(port_).Send(http::verb::post, "/api/v1/auth/logout", "",
                                {{"Cookie", "sl_session=" + session + "; sl_csrf=" + csrf}, {"x-csrf-token", csrf}});
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.Header("set-cookie").find("; Secure"), std::string::npos) << out.Header("set-cookie");
  auto st = ParseJson(Get("/api/v1/auth/status").body);
  EXPECT_TRUE(st["tls"].GetBool());
}

TEST_F(AuthApiTest, LoginFailuresAreAlikeAndRateLimited) {
  auto attempt = [&](const std::string& user, const std::string& pw) {
    return Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                              R"({"user":")" + user + R"(","password":")" + pw + R"("})",
                              {{"Content-Type", "application/json"}});
  };
  auto wrong = attempt("carol", "nope");
  auto ghost = attempt("ghost", "nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ghost.status, 401);
  EXPECT_EQ(wrong.body, ghost.body);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(attempt("carol", "nope").status, 401);
  auto limited = attempt("carol", "carol-password");
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.Header("retry-after").empty());
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/auth/login", "not json", {}).status, 400);
}

// Roles that differ (docs/auth.md, "Roles"): every guarded route against a viewer, a
// member, an admin, a project's API key and a user with no project. "403" is the
// refusal for the role; anything else means the role was enough (the route may still
// say 404 for a feature that is off in this fixture, or 400 for what it was sent).
TEST_F(AuthApiTest, EachRouteNeedsItsRole) {
  ASSERT_TRUE(admin_->CreateUser("dave", "").ok());
  ASSERT_TRUE(admin_->SetRole("dave", "alpha", auth::Role::kAdmin).ok());
  const std::string token_dave = std::move(admin_->CreateToken("dave", "t")).value().secret;
  const std::string token_carol = std::move(admin_->CreateToken("carol", "t")).value().secret;  // member on beta
  ASSERT_TRUE(authn_->Refresh().ok());
  struct Caller {
    std::string name, secret;
  };
  const std::vector<Caller> callers = {{"viewer", token_ana_},     {"member", token_carol},
                                       {"admin", token_dave},      {"key", key_a_.secret},
                                       {"no project", token_bob_}};
  struct Row {
    http::verb method;
    std::string target;
    std::string allowed;  // callers (by name) not refused with 403
  };
  const std::string all = "viewer member admin key no project";
  const std::vector<Row> rows = {
      {http::verb::get, "/api/v1/traces", all},
      {http::verb::get, "/api/v1/traces/" + TraceHex(1), all},
      {http::verb::get, "/api/v1/sessions", all},
      {http::verb::get, "/api/v1/metrics/overview", all},
      {http::verb::get, "/metrics", all},
      {http::verb::post, "/api/v1/demo", "member admin key"},
      {http::verb::post, "/v1/traces", "key"},
      {http::verb::get, "/api/v1/pricing/models", "admin"},
      {http::verb::get, "/api/v1/pricing/unpriced", "admin"},
      {http::verb::get, "/api/v1/redaction", "admin"},
      {http::verb::get, "/api/v1/sampling", "admin"},
      {http::verb::get, "/api/v1/deletions", "admin"},
      {http::verb::delete_, "/api/v1/users/u9?project=alpha", "admin"},
      {http::verb::delete_, "/api/v1/sessions/s9?project=alpha", "admin"},
      {http::verb::get, "/api/v1/audit", ""},  // admin of every project only (dave is not beta's)
      {http::verb::get, "/api/v1/admin/projects", "admin"},
      {http::verb::get, "/api/v1/admin/projects/alpha/keys", "admin"},
      {http::verb::get, "/api/v1/admin/users", "admin"},
      {http::verb::get, "/api/v1/admin/tokens", "admin"},
  };
  for (const auto& row : rows) {
    for (const auto& c : callers) {
      std::map<std::string, std::string> h = {{"Authorization", "Bearer " + c.secret}};
      std::string body;
      if (row.target == "/v1/traces") {
        h["Content-Type"] = "application/x-protobuf";
        body = MakeRequest({SpanSpec(TraceId(90), SpanId(90))}).SerializeAsString();
      }
      auto res = Client(port_).Send(row.method, row.target, body, h);
      const bool allowed = (" " + row.allowed + " ").find(" " + c.name + " ") != std::string::npos;
      if (allowed) {
        EXPECT_NE(res.status, 403) << row.target << " as " << c.name << ": " << res.body;
        EXPECT_LT(res.status, 500) << row.target << " as " << c.name << ": " << res.body;
      } else {
        EXPECT_EQ(res.status, 403) << row.target << " as " << c.name << ": " << res.body;
      }
    }
  }
  // The demo went into the caller's member project; the sampling and deletion lists
  // show only the admin's projects.
  auto mine = ParseJson(GetAs("/api/v1/deletions", token_dave).body);
  for (const auto& d : mine["deletions"].GetArray()) EXPECT_STREQ(d["project"].GetString(), "alpha");
  // Admin of every project: the audit route answers (404 here: no trail in this fixture).
  ASSERT_TRUE(admin_->SetRole("dave", "beta", auth::Role::kAdmin).ok());
  ASSERT_TRUE(authn_->Refresh().ok());
  EXPECT_EQ(GetAs("/api/v1/audit", token_dave).status, 404);
  // A member with two projects names the one the demo goes to.
  ASSERT_TRUE(admin_->SetRole("carol", "alpha", auth::Role::kMember).ok());
  ASSERT_TRUE(authn_->Refresh().ok());
  auto demo = [&](const std::string& q) {
    return Client(port_).Send(http::verb::post, "/api/v1/demo" + q, "", {{"Authorization", "Bearer " + token_carol}});
  };
  EXPECT_EQ(demo("").status, 400);
  EXPECT_EQ(demo("?project=alpha").status, 200);
  EXPECT_EQ(demo("?project=gamma").status, 403);
}

// Behind a trusted proxy the login limit keys on the forwarded client address.
class TrustedProxyApiTest : public AuthApiTest {
 protected:
  std::vector<IpNetwork> TrustedProxies() override { return *ParseNetworks("127.0.0.0/8"); }
};

ClientResponse LoginFrom(int port, const std::string& forwarded, const std::string& pw) {
  std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
  if (!forwarded.empty()) h["X-Forwarded-For"] = forwarded;
  return Client(port).Send(http::verb::post, "/api/v1/auth/login", R"({"user":"carol","password":")" + pw + R"("})", h);
}

TEST_F(TrustedProxyApiTest, TheLimitKeysOnTheForwardedClient) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(LoginFrom(port_, "203.0.113.5", "nope").status, 401);
  EXPECT_EQ(LoginFrom(port_, "203.0.113.5", "carol-password").status, 429);
  // Another client behind the same proxy is not locked out.
  EXPECT_EQ(LoginFrom(port_, "203.0.113.6", "carol-password").status, 200);
}

TEST_F(AuthApiTest, ForwardedForIsIgnoredWithoutATrustedProxy) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(LoginFrom(port_, "203.0.113." + std::to_string(i), "nope").status, 401);
  EXPECT_EQ(LoginFrom(port_, "198.51.100.1", "carol-password").status, 429);  // one client: the socket's
}

// Logins and logouts in the audit trail: who, from where, the outcome; never the
// password, and never a name that is no user's (it may be a password typed into the
// wrong field).
class AuthAuditApiTest : public AuthApiTest {
 protected:
  audit::AuditLog* Audit() override {
    if (!log_) {
      audit_dir_ = std::filesystem::temp_directory_path() /
                   ("sightline_auth_audit_" + std::to_string(getpid()) + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
      std::filesystem::remove_all(audit_dir_);
      audit::AuditLogOptions o;
      o.dir = audit_dir_.string();
      log_ = std::move(audit::AuditLog::Open(o)).value();
    }
    return log_.get();
  }
  void TearDown() override {
    AuthApiTest::TearDown();
    log_.reset();
    std::filesystem::remove_all(audit_dir_);
  }
  std::vector<audit::AuditRecord> Records(const std::string& prefix) {
    std::vector<audit::AuditRecord> out;
    EXPECT_TRUE(audit::ScanAuditRecords(Env::Default(), audit_dir_.string(), 0, [&](const audit::AuditRecord& r) {
                  if (r.action.rfind(prefix, 0) == 0) out.push_back(r);
                  return true;
                }).ok());
    return out;
  }
  std::filesystem::path audit_dir_;
  std::unique_ptr<audit::AuditLog> log_;
};

TEST_F(AuthAuditApiTest, LoginsAndLogoutsAreRecordedWithoutSecrets) {
  EXPECT_EQ(LoginFrom(port_, "", "wrong-password-1").status, 401);
  auto ghost = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                  R"({"user":"hunter2-typed-here","password":"x"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(ghost.status, 401);
  auto ok = LoginFrom(port_, "", "carol-password");
  ASSERT_EQ(ok.status, 200);
  std::string csrf = ParseJson(ok.body)["csrf_token"].GetString();
  std::string set_cookie = ok.Header("set-cookie");
  std::string session = set_cookie.substr(set_cookie.find("sl_session=") + 11, 64);
  auto out = Client(port_).Send(http::verb::post, "/api/v1/auth/logout", "",
                                {{"Cookie", "sl_session=" + session}, {"x-csrf-token", csrf}});
  ASSERT_EQ(out.status, 200);

  auto recs = Records("auth.");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].action, "auth.login");
  EXPECT_EQ(recs[0].outcome, "denied");
  EXPECT_EQ(recs[0].target, "user/carol");
  EXPECT_EQ(recs[0].actor.principal, "anonymous");
  EXPECT_NE(recs[0].details_json.find("\"address\":\"127.0.0.1\""), std::string::npos) << recs[0].details_json;
  EXPECT_EQ(recs[1].target, "user");  // not a user: the name is not kept
  EXPECT_NE(recs[1].details_json.find("\"known_user\":false"), std::string::npos);
  EXPECT_EQ(recs[2].outcome, "ok");
  EXPECT_EQ(recs[2].actor.principal, "user:carol");
  EXPECT_FALSE(recs[2].actor.remote.empty());
  EXPECT_EQ(recs[3].action, "auth.logout");
  EXPECT_EQ(recs[3].target, "user/carol");
  for (const auto& r : recs)
    for (const std::string& secret : {std::string("wrong-password-1"), std::string("carol-password"),
                                      std::string("hunter2-typed-here"), session, csrf})
      EXPECT_EQ(r.line.find(secret), std::string::npos) << r.line;

  // Refusals while rate-limited are not recorded one by one; the failure that started
  // the wait says so.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(LoginFrom(port_, "", "nope").status, 401);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(LoginFrom(port_, "", "nope").status, 429);
  recs = Records("auth.login");
  EXPECT_EQ(recs.size(), 3u + 5u);
  EXPECT_NE(recs.back().details_json.find("\"limited\":true"), std::string::npos) << recs.back().details_json;
}

// The cap on slow credential hashes over HTTP (docs/auth.md, "Slow hashes are
// capped"): with both slots held by unknown secrets, a third gets 503 with
// Retry-After at once (a read, an ingest and a login alike), while callers already
// known are answered: the slow checks run off the io threads. Then a flood from 8
// clients never runs more than 2 checks at once.
class CappedAuthApiTest : public AuthApiTest {
 protected:
  auth::Authenticator::Options AuthOptions() override {
    auth::Authenticator::Options o;
    o.max_concurrent_verifications = 2;
    o.dummy_iterations = 1000;
    o.verify_hook = [this]() {
      bool held;
      {
        std::unique_lock<std::mutex> l(mu_);
        ++inside_;
        peak_ = std::max(peak_, inside_);
        cv_.notify_all();
        held = hold_;
        cv_.wait(l, [this]() { return !hold_; });
      }
      if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(3));
      std::lock_guard<std::mutex> l(mu_);
      --inside_;
    };
    return o;
  }
  // Distinct wrong secrets of alpha's key id (never the right one).
  std::string Wrong(int i) const {
    std::string w = key_a_.secret.substr(0, key_a_.secret.size() - 3);
    w.back() = w.back() == 'x' ? 'y' : 'x';
    std::string n = std::to_string(100 + i);
    return w + n.substr(n.size() - 3);
  }
  void Hold(bool on) {
    {
      std::lock_guard<std::mutex> l(mu_);
      hold_ = on;
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;  // guarded by mu_
  int inside_ = 0;     // guarded by mu_
  int peak_ = 0;       // guarded by mu_
};

TEST_F(CappedAuthApiTest, UnknownSecretsBeyondTheCapGet503AndKnownCallersPass) {
  ASSERT_EQ(GetAs("/api/v1/traces", Wrong(1)).status, 401);  // now negatively cached
  Hold(true);
  int held[2] = {0, 0};
  std::vector<std::thread> holders;
  for (int i = 0; i < 2; ++i) holders.emplace_back([&, i]() { held[i] = GetAs("/api/v1/traces", Wrong(10 + i)).status; });
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(20), [this]() { return inside_ == 2; }));
  }
  auto busy = GetAs("/api/v1/traces", Wrong(20));
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(busy.Header("retry-after"), "1");
  auto busy_ingest =
      PostProtobuf(MakeRequest({SpanSpec(TraceId(70), SpanId(70))}), {{"x-sightline-api-key", Wrong(21)}});
  EXPECT_EQ(busy_ingest.status, 503);
  EXPECT_FALSE(busy_ingest.Header("retry-after").empty());
  auto login = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                  R"({"user":"carol","password":"carol-password"})",
                                  {{"Content-Type", "application/json"}});
  EXPECT_EQ(login.status, 503) << login.body;
  EXPECT_FALSE(login.Header("retry-after").empty());
  // Known callers: a verified key reads and sends, a wrong secret already seen is 401.
  EXPECT_EQ(GetAs("/api/v1/traces", key_b_.secret).status, 200);
  EXPECT_EQ(PostProtobuf(MakeRequest({SpanSpec(TraceId(71), SpanId(71))}), {{"x-sightline-api-key", key_b_.secret}})
                .status,
            200);
  EXPECT_EQ(GetAs("/api/v1/traces", Wrong(1)).status, 401);
  auto metrics = GetAs("/metrics", key_b_.secret).body;
  EXPECT_NE(metrics.find("\nsightline_auth_verifications_refused_total 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nsightline_auth_verifications_in_progress 2\n"), std::string::npos);
  EXPECT_NE(metrics.find("\nsightline_auth_verification_slots 2\n"), std::string::npos);
  Hold(false);
  for (auto& t : holders) t.join();
  EXPECT_EQ(held[0], 401);
  EXPECT_EQ(held[1], 401);
  // The refused login was not a failure: carol logs in.
  EXPECT_EQ(Client(port_)
                .Send(http::verb::post, "/api/v1/auth/login", R"({"user":"carol","password":"carol-password"})",
                      {{"Content-Type", "application/json"}})
                .status,
            200);

  // A flood of distinct wrong secrets from 8 clients.
  {
    std::lock_guard<std::mutex> l(mu_);
    peak_ = 0;
  }
  std::atomic<int> unexpected{0}, refused{0};
  std::vector<std::thread> flood;
  for (int c = 0; c < 8; ++c) {
    flood.emplace_back([&, c]() {
      for (int i = 0; i < 5; ++i) {
        int st = GetAs("/api/v1/traces", Wrong(100 + c * 5 + i)).status;
        if (st == 503) ++refused;
        else if (st != 401) ++unexpected;
      }
    });
  }
  for (auto& t : flood) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_LE(peak_, 2);
    EXPECT_GE(peak_, 1);
  }
  EXPECT_EQ(authn_->verifications_in_progress(), 0);
  EXPECT_EQ(authn_->refused_verifications(), 3u + static_cast<uint64_t>(refused.load()));
  EXPECT_EQ(GetAs("/api/v1/traces", key_b_.secret).status, 200);
}

// Keys, users and tokens through the API (docs/api.md, "Keys, users and tokens"):
// admins only, each within the projects they administer, every change recorded as
// `sightline admin`'s are.
TEST_F(AuthApiTest, KeysUsersAndTokensThroughTheApiForAdminsOnly) {
  ASSERT_TRUE(admin_->CreateUser("dave", "").ok());
  ASSERT_TRUE(admin_->SetRole("dave", "alpha", auth::Role::kAdmin).ok());
  const std::string dave = std::move(admin_->CreateToken("dave", "t")).value().secret;
  const auth::NewToken carol_token = std::move(admin_->CreateToken("carol", "t")).value();  // member on beta
  ASSERT_TRUE(authn_->Refresh().ok());
  const std::string ana_token_id = *auth::TokenIdOf(token_ana_);
  auto as = [&](const std::string& secret, http::verb m, const std::string& target, const std::string& body = "") {
    std::map<std::string, std::string> h;
    if (!secret.empty()) h["Authorization"] = "Bearer " + secret;
    if (!body.empty()) h["Content-Type"] = "application/json";
    return Client(port_).Send(m, target, body, h);
  };
  const std::string user_role = "/api/v1/admin/users/ana/projects/alpha";
  const std::vector<std::pair<http::verb, std::string>> routes = {
      {http::verb::get, "/api/v1/admin/projects"},
      {http::verb::get, "/api/v1/admin/projects/alpha/keys"},
      {http::verb::post, "/api/v1/admin/projects/alpha/keys"},
      {http::verb::post, "/api/v1/admin/keys/" + key_a_.info.id + "/rotate"},
      {http::verb::delete_, "/api/v1/admin/keys/" + key_a_.info.id},
      {http::verb::get, "/api/v1/admin/users"},
      {http::verb::post, "/api/v1/admin/users"},
      {http::verb::put, user_role},
      {http::verb::delete_, user_role},
      {http::verb::get, "/api/v1/admin/tokens"},
      {http::verb::delete_, "/api/v1/admin/tokens/" + ana_token_id},
  };
  // Viewers, members, API keys and users with no project: 403; no credential: 401.
  for (const auto& [method, target] : routes) {
    for (const std::string& secret : {token_ana_, carol_token.secret, key_a_.secret, token_bob_}) {
      std::string body = method == http::verb::get || method == http::verb::delete_ ? "" : R"({"name":"x","role":"admin"})";
      EXPECT_EQ(as(secret, method, target, body).status, 403) << target;
    }
    EXPECT_EQ(as("", method, target).status, 401) << target;
  }
  EXPECT_EQ(GetAs("/api/v1/traces", key_a_.secret).status, 200);  // nothing was changed
  EXPECT_EQ(GetAs("/api/v1/traces", token_ana_).status, 200);
  EXPECT_EQ(as(dave, http::verb::patch, "/api/v1/admin/users").Header("allow"), "GET, POST");

  // Alpha's admin: alpha's keys, created (the secret shown once), rotated, revoked.
  auto projects = ParseJson(as(dave, http::verb::get, "/api/v1/admin/projects").body);
  ASSERT_EQ(projects["projects"].Size(), 1u);
  EXPECT_STREQ(projects["projects"][0]["name"].GetString(), "alpha");
  auto listed = as(dave, http::verb::get, "/api/v1/admin/projects/alpha/keys");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.body.find("sk-lf-"), std::string::npos);
  auto keys = ParseJson(listed.body);
  ASSERT_EQ(keys["keys"].Size(), 1u);
  EXPECT_EQ(keys["keys"][0]["public_key"].GetString(), key_a_.info.public_key);
  EXPECT_STREQ(keys["keys"][0]["state"].GetString(), "live");
  auto created = as(dave, http::verb::post, "/api/v1/admin/projects/alpha/keys", R"({"name":"ci"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("cache-control"), "no-store");
  auto ck = ParseJson(created.body);
  const std::string ci_secret = ck["secret_key"].GetString();
  const std::string ci_public = ck["public_key"].GetString();
  EXPECT_STREQ(ck["project"].GetString(), "alpha");
  EXPECT_STREQ(ck["name"].GetString(), "ci");
  EXPECT_EQ(PostProtobuf(MakeRequest({SpanSpec(TraceId(60), SpanId(60))}), {{"x-sightline-api-key", ci_secret}}).status,
            200);
  auto rotated = as(dave, http::verb::post, "/api/v1/admin/keys/" + ci_public + "/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  auto rk = ParseJson(rotated.body);
  const std::string new_secret = rk["secret_key"].GetString();
  const std::string new_id = rk["id"].GetString();
  EXPECT_STREQ(rk["name"].GetString(), "ci");
  EXPECT_EQ(GetAs("/api/v1/traces", ci_secret).status, 401);  // at once, not at the next reload
  EXPECT_EQ(GetAs("/api/v1/traces", new_secret).status, 200);
  auto revoked = as(dave, http::verb::delete_, "/api/v1/admin/keys/" + new_id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_STREQ(ParseJson(revoked.body)["state"].GetString(), "revoked");
  EXPECT_EQ(GetAs("/api/v1/traces", new_secret).status, 401);
  EXPECT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/keys/" + new_id).status, 404);  // already revoked
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/projects/alpha/keys", "not json").status, 400);

  // ... and nothing of beta: its routes 403, its key ids 404 like unknown ones.
  EXPECT_EQ(as(dave, http::verb::get, "/api/v1/admin/projects/beta/keys").status, 403);
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/projects/beta/keys", R"({"name":"x"})").status, 403);
  auto other = as(dave, http::verb::post, "/api/v1/admin/keys/" + key_b_.info.id + "/rotate");
  auto unknown = as(dave, http::verb::post, "/api/v1/admin/keys/000000000000/rotate");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, unknown.body);
  EXPECT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/keys/" + key_b_.info.public_key).status, 404);
  EXPECT_EQ(as(dave, http::verb::put, "/api/v1/admin/users/carol/projects/beta", R"({"role":"admin"})").status, 403);
  EXPECT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/users/carol/projects/beta").status, 403);
  EXPECT_EQ(as(dave, http::verb::put, "/api/v1/admin/users/dave/projects/beta", R"({"role":"admin"})").status, 403);
  EXPECT_EQ(GetAs("/api/v1/traces", key_b_.secret).status, 200);
  EXPECT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/tokens/" + carol_token.info.id).status, 404);
  EXPECT_EQ(GetAs("/api/v1/traces", carol_token.secret).status, 200);

  // Users and roles.
  auto erin = as(dave, http::verb::post, "/api/v1/admin/users", R"({"name":"erin","password":"erin-password-1"})");
  ASSERT_EQ(erin.status, 201) << erin.body;
  EXPECT_EQ(erin.body.find("erin-password-1"), std::string::npos);
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/users", R"({"name":"erin"})").status, 409);
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/users", R"({"name":"frank","password":"short"})").status, 400);
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/users", R"({"name":"no spaces"})").status, 400);
  EXPECT_EQ(as(dave, http::verb::put, "/api/v1/admin/users/erin/projects/alpha", R"({"role":"boss"})").status, 400);
  EXPECT_EQ(as(dave, http::verb::put, "/api/v1/admin/users/ghost/projects/alpha", R"({"role":"viewer"})").status, 404);
  auto role = as(dave, http::verb::put, "/api/v1/admin/users/erin/projects/alpha", R"({"role":"member"})");
  ASSERT_EQ(role.status, 200) << role.body;
  auto login = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                  R"({"user":"erin","password":"erin-password-1"})",
                                  {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string set_cookie = login.Header("set-cookie");
  const std::string cookie = "sl_session=" + set_cookie.substr(set_cookie.find("sl_session=") + 11, 64);
  auto erin_reads = ParseJson(Client(port_).Send(http::verb::get, "/api/v1/traces", "", {{"Cookie", cookie}}).body);
  ASSERT_GE(erin_reads["traces"].Size(), 1u);
  for (const auto& t : erin_reads["traces"].GetArray()) EXPECT_STREQ(t["project"].GetString(), "alpha");
  // The list: users with a role in alpha (only those roles) and users with none; not carol (beta only).
  auto users = ParseJson(as(dave, http::verb::get, "/api/v1/admin/users").body);
  std::map<std::string, std::string> seen;
  for (const auto& u : users["users"].GetArray()) {
    std::string roles;
    for (const auto& r : u["roles"].GetArray())
      roles += std::string(r["project"].GetString()) + ":" + r["role"].GetString() + " ";
    seen[u["name"].GetString()] = roles;
  }
  EXPECT_EQ(seen.count("carol"), 0u);
  EXPECT_EQ(seen["ana"], "alpha:viewer ");
  EXPECT_EQ(seen["erin"], "alpha:member ");
  EXPECT_EQ(seen["dave"], "alpha:admin ");
  EXPECT_EQ(seen.count("bob"), 1u);
  ASSERT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/users/erin/projects/alpha").status, 200);
  EXPECT_EQ(Client(port_).Send(http::verb::get, "/api/v1/traces/" + TraceHex(1), "", {{"Cookie", cookie}}).status, 404);
  // A cookie session changes nothing without the CSRF token, on PUT and DELETE too.
  ASSERT_TRUE(admin_->SetPassword("dave", "dave-password-1").ok());
  ASSERT_TRUE(authn_->Refresh().ok());
  auto dlogin = Client(port_).Send(http::verb::post, "/api/v1/auth/login",
                                   R"({"user":"dave","password":"dave-password-1"})",
                                   {{"Content-Type", "application/json"}});
  ASSERT_EQ(dlogin.status, 200);
  std::string dset = dlogin.Header("set-cookie");
  const std::string dcookie = "sl_session=" + dset.substr(dset.find("sl_session=") + 11, 64);
  const std::string csrf = ParseJson(dlogin.body)["csrf_token"].GetString();
  EXPECT_EQ(Client(port_).Send(http::verb::put, user_role, R"({"role":"admin"})", {{"Cookie", dcookie}}).status, 403);
  EXPECT_EQ(Client(port_).Send(http::verb::delete_, user_role, "", {{"Cookie", dcookie}}).status, 403);
  EXPECT_EQ(Client(port_)
                .Send(http::verb::put, user_role, R"({"role":"member"})", {{"Cookie", dcookie}, {"x-csrf-token", csrf}})
                .status,
            200);

  // Tokens: dave's own and ana's (alpha only); not carol's or bob's (no project).
  auto tokens = ParseJson(as(dave, http::verb::get, "/api/v1/admin/tokens").body);
  std::set<std::string> owners;
  for (const auto& t : tokens["tokens"].GetArray()) owners.insert(t["user"].GetString());
  EXPECT_EQ(owners, (std::set<std::string>{"ana", "dave"}));
  ASSERT_EQ(as(dave, http::verb::delete_, "/api/v1/admin/tokens/" + ana_token_id).status, 200);
  EXPECT_EQ(GetAs("/api/v1/traces", token_ana_).status, 401);

  // Recorded as `sightline admin`'s changes are, with the caller as the actor; never a secret.
  auto rows = admin_->ReadAuditOutbox(1000);
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> actions;
  for (const auto& r : *rows) {
    if (r.actor.rfind("api:", 0) != 0) continue;
    actions.push_back(r.action);
    EXPECT_TRUE(r.actor.rfind("api:token:dave (127.0.0.1:", 0) == 0 || r.actor.rfind("api:user:dave (127.0.0.1:", 0) == 0)
        << r.actor;
    for (const std::string& secret : {ci_secret, new_secret, std::string("erin-password-1")}) {
      EXPECT_EQ(r.details.find(secret), std::string::npos);
      EXPECT_EQ(r.target.find(secret), std::string::npos);
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"key.create", "key.rotate", "key.revoke", "user.create", "user.role",
                                               "user.role", "user.role", "token.revoke"}));
}

// The admin API's refusals: 401 and 403 say nothing of whether a project exists;
// malformed bodies get a 400 naming the field; a secret is never taken in a URL; a
// new secret is in no log line, no audit record and no later answer.
TEST_F(AuthApiTest, AdminApiRefusalsNameTheFieldAndRevealNoProject) {
  ASSERT_TRUE(admin_->CreateUser("dave", "").ok());
  ASSERT_TRUE(admin_->SetRole("dave", "alpha", auth::Role::kAdmin).ok());
  const std::string dave = std::move(admin_->CreateToken("dave", "t")).value().secret;
  ASSERT_TRUE(authn_->Refresh().ok());
  auto as = [&](const std::string& secret, http::verb m, const std::string& target, const std::string& body = "") {
    std::map<std::string, std::string> h;
    if (!secret.empty()) h["Authorization"] = "Bearer " + secret;
    if (!body.empty()) h["Content-Type"] = "application/json";
    return Client(port_).Send(m, target, body, h);
  };
  auto message = [](const ClientResponse& r) {
    auto d = ParseJson(r.body);
    return d.HasMember("error") ? std::string(d["error"]["message"].GetString()) : std::string("<none>");
  };

  // Unauthenticated: one 401 body, for a real project and a made-up one.
  auto real = as("", http::verb::get, "/api/v1/admin/projects/beta/keys");
  auto made_up = as("", http::verb::get, "/api/v1/admin/projects/no-such-project/keys");
  EXPECT_EQ(real.status, 401);
  EXPECT_EQ(made_up.status, 401);
  EXPECT_EQ(real.body, made_up.body);
  EXPECT_EQ(as("x", http::verb::post, "/api/v1/admin/projects/beta/keys", "{}").body, real.body);
  // A member or viewer: one 403 body (naming the route pattern, not the project).
  auto member_real = as(token_ana_, http::verb::get, "/api/v1/admin/projects/alpha/keys");
  auto member_made_up = as(token_ana_, http::verb::get, "/api/v1/admin/projects/no-such-project/keys");
  EXPECT_EQ(member_real.status, 403);
  EXPECT_EQ(member_real.body, member_made_up.body);
  EXPECT_EQ(member_real.body.find("alpha"), std::string::npos);
  // Alpha's admin asking about beta and about a project that does not exist: the same
  // 403 (only the name it sent differs).
  for (http::verb m : {http::verb::get, http::verb::post}) {
    auto other = as(dave, m, "/api/v1/admin/projects/beta/keys", m == http::verb::post ? "{}" : "");
    auto none = as(dave, m, "/api/v1/admin/projects/zeta/keys", m == http::verb::post ? "{}" : "");
    EXPECT_EQ(other.status, 403);
    EXPECT_EQ(none.status, 403);
    std::string a = message(other), b = message(none);
    EXPECT_EQ(a.substr(0, a.rfind(' ')), b.substr(0, b.rfind(' ')));
  }
  EXPECT_EQ(as(dave, http::verb::put, "/api/v1/admin/users/ana/projects/zeta", R"({"role":"viewer"})").status, 403);

  // Bodies: not JSON, not an object, a field of another type, a misspelt field, a
  // missing one; each a 400 that says which.
  struct BadBody {
    http::verb method;
    std::string target, body, says;
  };
  const std::string keys = "/api/v1/admin/projects/alpha/keys";
  const std::string role = "/api/v1/admin/users/ana/projects/alpha";
  const std::vector<BadBody> bad = {
      {http::verb::post, keys, "{\"name\":", "not valid JSON"},
      {http::verb::post, keys, "[1]", "must be a JSON object"},
      {http::verb::post, keys, R"({"name":5})", "\"name\" must be a string"},
      {http::verb::post, keys, R"({"nmae":"ci"})", "unknown field \"nmae\": expected \"name\""},
      {http::verb::post, keys, "{\"name\":\"" + std::string(201, 'n') + "\"}", "\"name\": key names are at most 200 bytes"},
      {http::verb::post, keys, R"({"name":"a\nb"})", "\"name\": key names may not contain control characters"},
      {http::verb::post, "/api/v1/admin/users", R"({"password":"long enough"})", "\"name\" is required"},
      {http::verb::post, "/api/v1/admin/users", R"({"name":"no spaces"})", "\"name\": user names are 1-64"},
      {http::verb::post, "/api/v1/admin/users", R"({"name":"frank","password":"short"})",
       "\"password\": passwords are at least 8 characters"},
      {http::verb::post, "/api/v1/admin/users", R"({"name":"frank","password":true})", "\"password\" must be a string"},
      {http::verb::post, "/api/v1/admin/users", R"({"name":"frank","role":"admin"})", "unknown field \"role\""},
      {http::verb::put, role, "{}", "\"role\" is required: admin, member or viewer"},
      {http::verb::put, role, R"({"role":"none"})", "\"role\" must be admin, member or viewer"},
      {http::verb::put, role, R"({"role":"viewer","project":"beta"})", "unknown field \"project\""},
      {http::verb::delete_, role, R"({"role":"viewer"})", "takes no body fields"},
      {http::verb::post, "/api/v1/admin/keys/" + key_a_.info.id + "/rotate", R"({"name":"x"})", "takes no body fields"},
  };
  for (const auto& b : bad) {
    auto r = as(dave, b.method, b.target, b.body);
    EXPECT_EQ(r.status, 400) << b.target << " " << b.body << ": " << r.body;
    EXPECT_THAT(message(r), ::testing::HasSubstr(b.says)) << b.body;
  }
  // A secret in the path is refused, not looked up, not echoed; the key still works.
  auto by_secret = as(dave, http::verb::delete_, "/api/v1/admin/keys/" + key_a_.secret);
  EXPECT_EQ(by_secret.status, 400);
  EXPECT_EQ(by_secret.body.find(key_a_.secret), std::string::npos);
  EXPECT_EQ(as(dave, http::verb::post, "/api/v1/admin/keys/" + key_a_.secret + "/rotate").status, 400);
  EXPECT_EQ(GetAs("/api/v1/traces", key_a_.secret).status, 200);
  // A taken name: 409 with its own code.
  auto taken = as(dave, http::verb::post, "/api/v1/admin/users", R"({"name":"carol"})");
  EXPECT_EQ(taken.status, 409);
  EXPECT_STREQ(ParseJson(taken.body)["error"]["code"].GetString(), "already_exists");
  // None of the refusals changed anything.
  auto rows = admin_->ReadAuditOutbox(1000);
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) EXPECT_NE(r.actor.rfind("api:", 0), 0u) << r.action;

  // A key created through the API: its secret in that one answer only (not in the
  // list, a later answer, or the audit record).
  auto created = as(dave, http::verb::post, keys, R"({"name":"ci"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string secret = ParseJson(created.body)["secret_key"].GetString();
  EXPECT_EQ(as(dave, http::verb::get, keys).body.find(secret), std::string::npos);
  rows = admin_->ReadAuditOutbox(1000);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->back().action, "key.create");
  EXPECT_EQ(rows->back().details.find(secret), std::string::npos);
  EXPECT_EQ(rows->back().target.find(secret), std::string::npos);
  EXPECT_EQ(PostProtobuf(MakeRequest({SpanSpec(TraceId(80), SpanId(80))}), {{"x-sightline-api-key", secret}}).status, 200);
}

// Without an authenticator (and with one whose database is empty) everything is open,
// and the status says so.
class OpenModeApiTest : public ServerFixture {};

TEST_F(OpenModeApiTest, StatusSaysOpen) {
  EXPECT_FALSE(ParseJson(Get("/api/v1/auth/status").body)["tls"].GetBool());
  auto doc = ParseJson(Get("/api/v1/auth/status").body);
  EXPECT_STREQ(doc["mode"].GetString(), "open");
  EXPECT_TRUE(doc["authenticated"].GetBool());
  EXPECT_STREQ(doc["kind"].GetString(), "open");
  EXPECT_EQ(Get("/api/v1/traces").status, 200);
}

}  // namespace
}  // namespace sightline::api::testing
