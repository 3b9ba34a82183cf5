// Authentication and project isolation through the HTTP API (docs/auth.md): a matrix
// of callers (none, a wrong key, each project's key, users' tokens) against every
// route that reads or writes, proving that nothing of one project is readable with
// another's credentials and that a refusal never tells whether a project or id exists.
#include <openssl/evp.h>

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

  void SetUp() override {
    static std::atomic<int> n{0};
    meta_dir_ = std::filesystem::temp_directory_path() /
                ("sightline_auth_api_" + std::to_string(getpid()) + "_" + std::to_string(n++));
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
    authn_ = std::make_unique<auth::Authenticator>(OpenDb());
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
