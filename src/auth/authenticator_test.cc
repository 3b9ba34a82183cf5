#include "auth/authenticator.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace sightline::auth {
namespace {

std::string Basic(const std::string& user, const std::string& pass) {
  std::string in = user + ":" + pass;
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() / ("sl_authn_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(dir_);  // stale: left by a dead process that had our pid
    std::filesystem::create_directories(dir_);
    admin_ = Open();
    auth_ = std::make_unique<Authenticator>(Open());
    ASSERT_TRUE(auth_->Refresh().ok());
  }
  void TearDown() override {
    auth_.reset();
    admin_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<MetadataDb> Open() {
    MetadataDb::Options o;
    o.iterations = 1000;
    return std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value();
  }
  Result<Principal> Bearer(const std::string& secret) {
    std::string h = "Bearer " + secret;
    return auth_->Authenticate({h, ""});
  }
  std::filesystem::path dir_;
  std::unique_ptr<MetadataDb> admin_;  // another connection, as `sightline admin` is
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, OpenUntilAKeyExists) {
  EXPECT_FALSE(auth_->required());
  auto p = auth_->Authenticate({"", ""});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->all_projects);
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  ASSERT_TRUE(admin_->CreateApiKey("billing", "k").ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  EXPECT_TRUE(auth_->required());
  EXPECT_EQ(auth_->Authenticate({"", ""}).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, EveryCredentialFormAuthenticates) {
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());

  // (authorization, x-sightline-api-key)
  const std::vector<std::pair<std::string, std::string>> forms = {
      {Basic(key->info.public_key, key->secret), ""},
      {"Bearer " + key->secret, ""},
      {"bearer  " + key->secret + " ", ""},
      {"", key->secret}};
  for (const auto& [authz, header] : forms) {
    auto p = auth_->Authenticate({authz, header});
    ASSERT_TRUE(p.ok()) << authz << "|" << header;
    EXPECT_EQ(p->kind, Principal::Kind::kApiKey);
    EXPECT_EQ(p->ingest_project, "billing");
    EXPECT_TRUE(p->CanRead("billing"));
    EXPECT_FALSE(p->CanRead("search"));
    EXPECT_FALSE(p->all_projects);
  }
}

TEST_F(AuthenticatorTest, WrongMissingAndMalformedAllFailAlike) {
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  ASSERT_TRUE(admin_->CreateProject("search").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  auto other = admin_->CreateApiKey("search", "k");
  ASSERT_TRUE(key.ok() && other.ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  std::string wrong = key->secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", ""},
      {"Bearer ", ""},
      {"Bearer " + wrong, ""},
      {"Bearer sk-lf-000000000000abcdefabcdefabcdefabcdefabcdefabcd", ""},
      {"Bearer garbage", ""},
      {"Token " + key->secret, ""},
      {"Basic !!!!", ""},
      {Basic("pk-lf-" + other->info.id, key->secret), ""},  // pair of two different keys
      {Basic("someone", key->secret), ""},
      {"", wrong},
      // The real secret with a byte Sightline never issues: HMAC's zero padding would
      // make "secret\0" hash like "secret", so it is refused before hashing.
      {"", key->secret + std::string(1, '\0')},
      {Basic("pk-lf-" + key->info.id, key->secret + std::string(1, '\0')), ""},
      {"", key->secret + "\x01"},
  };
  for (const auto& [authz, header] : bad) {
    auto p = auth_->Authenticate({authz, header});
    ASSERT_FALSE(p.ok()) << authz << "|" << header;
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(p.status().message(), kAuthFailed);
  }
}

TEST_F(AuthenticatorTest, CacheSkipsTheSlowHashAndRevocationWins) {
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Bearer(key->secret).ok());
  EXPECT_EQ(auth_->slow_verifications(), 1u);
  EXPECT_EQ(auth_->cache_hits(), 4u);
  // A wrong secret with the same id is not cached as good.
  std::string wrong = key->secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(Bearer(wrong).ok());
  ASSERT_TRUE(admin_->RevokeApiKey(key->info.id).ok());
  EXPECT_TRUE(Bearer(key->secret).ok());  // not seen yet
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  EXPECT_EQ(Bearer(key->secret).status().code(), StatusCode::kUnauthenticated);
  // Revoking the last key does not reopen the server.
  EXPECT_TRUE(auth_->required());
  EXPECT_EQ(auth_->Authenticate({"", ""}).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, CacheIsBounded) {
  MetadataDb::Options o;
  o.iterations = 1000;
  Authenticator::Options ao;
  ao.cache_entries = 2;
  Authenticator small(std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value(), ao);
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  std::vector<std::string> secrets;
  for (int i = 0; i < 3; ++i) secrets.push_back(admin_->CreateApiKey("billing", "k")->secret);
  ASSERT_TRUE(small.Refresh().ok());
  for (const auto& s : secrets) ASSERT_TRUE(small.Authenticate({"Bearer " + s, ""}).ok());
  for (const auto& s : secrets) ASSERT_TRUE(small.Authenticate({"Bearer " + s, ""}).ok());
  EXPECT_GT(small.slow_verifications(), 3u);  // some were evicted
}

TEST_F(AuthenticatorTest, TokensCarryTheUsersRoles) {
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  ASSERT_TRUE(admin_->CreateProject("search").ok());
  ASSERT_TRUE(admin_->CreateUser("ana", "").ok());
  ASSERT_TRUE(admin_->SetRole("ana", "search", Role::kViewer).ok());
  ASSERT_TRUE(admin_->CreateApiKey("search", "k").ok());  // keeps auth on once ana is gone
  auto tok = admin_->CreateToken("ana", "laptop");
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  auto p = Bearer(tok->secret);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Principal::Kind::kToken);
  EXPECT_EQ(p->subject, "ana");
  EXPECT_TRUE(p->CanRead("search"));
  EXPECT_FALSE(p->CanRead("billing"));
  EXPECT_TRUE(p->ingest_project.empty());
  // A role granted later applies at the next refresh, without a new token.
  ASSERT_TRUE(admin_->SetRole("ana", "billing", Role::kMember).ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  EXPECT_TRUE(Bearer(tok->secret)->CanRead("billing"));
  ASSERT_TRUE(admin_->RemoveUser("ana").ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  EXPECT_FALSE(Bearer(tok->secret).ok());
}

// A repeated wrong secret for a live key pays the slow hash once; the memory is
// bounded, short-lived, and forgotten when the keys change.
TEST_F(AuthenticatorTest, WrongSecretsAreRememberedBriefly) {
  MetadataDb::Options o;
  o.iterations = 1000;
  Authenticator::Options ao;
  ao.negative_ttl_s = 30;
  int64_t now = 1000;
  ao.now_s = [&now]() { return now; };
  Authenticator a(std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value(), ao);
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(a.Refresh().ok());
  std::string wrong = key->secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.Authenticate({"Bearer " + wrong, ""}).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(a.slow_verifications(), 1u);
  EXPECT_EQ(a.negative_hits(), 49u);
  // The right secret is not held up by the wrong one.
  EXPECT_TRUE(a.Authenticate({"Bearer " + key->secret, ""}).ok());
  EXPECT_EQ(a.slow_verifications(), 2u);
  // Expiry: after the lifetime the wrong secret is checked again (once).
  now += 31;
  EXPECT_FALSE(a.Authenticate({"Bearer " + wrong, ""}).ok());
  EXPECT_FALSE(a.Authenticate({"Bearer " + wrong, ""}).ok());
  EXPECT_EQ(a.slow_verifications(), 3u);
  // A reload that changes nothing keeps the memory; one that changes the keys clears it.
  ASSERT_TRUE(a.Refresh().ok());
  EXPECT_FALSE(a.Authenticate({"Bearer " + wrong, ""}).ok());
  EXPECT_EQ(a.slow_verifications(), 3u);
  ASSERT_TRUE(admin_->CreateApiKey("billing", "k2").ok());
  ASSERT_TRUE(a.Refresh().ok());
  EXPECT_FALSE(a.Authenticate({"Bearer " + wrong, ""}).ok());
  EXPECT_EQ(a.slow_verifications(), 4u);
}

TEST_F(AuthenticatorTest, NegativeCacheIsBounded) {
  MetadataDb::Options o;
  o.iterations = 1000;
  Authenticator::Options ao;
  ao.negative_cache_entries = 4;
  Authenticator a(std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value(), ao);
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  ASSERT_TRUE(a.Refresh().ok());
  // 20 wrong secrets of the key's id: its secret with other last two characters (never
  // the key's own, which are random and may be two digits).
  const std::string prefix = key->secret.substr(0, key->secret.size() - 2);
  std::vector<std::string> wrong;
  for (int n = 10; wrong.size() < 20; ++n)
    if (prefix + std::to_string(n) != key->secret) wrong.push_back("Bearer " + prefix + std::to_string(n));
  for (const std::string& w : wrong) EXPECT_FALSE(a.Authenticate({w, ""}).ok());
  EXPECT_EQ(a.slow_verifications(), 20u);
  EXPECT_EQ(a.negative_hits(), 0u);
  EXPECT_FALSE(a.Authenticate({wrong.back(), ""}).ok());  // the newest is remembered
  EXPECT_EQ(a.negative_hits(), 1u);
}

// The cap on slow hashes (docs/auth.md, "Slow hashes are capped"): with every slot
// held, a further unknown secret is refused at once (Unavailable), not queued, and so
// is a login; a secret already verified and a wrong one already seen still answer.
// Then a flood of distinct wrong secrets from 16 threads never runs more than the cap
// at once.
TEST_F(AuthenticatorTest, SlowVerificationsAreCappedAndRefusedBeyondTheCap) {
  std::atomic<int> inside{0}, peak{0};
  std::atomic<bool> hold{false};
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  Authenticator::Options ao;
  ao.max_concurrent_verifications = 2;
  ao.dummy_iterations = 1000;
  ao.verify_hook = [&]() {
    int now = ++inside;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    if (hold.load()) {
      std::unique_lock<std::mutex> l(m);
      cv.wait(l, [&]() { return release; });
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    --inside;
  };
  Authenticator a(Open(), ao);
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "k");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(admin_->CreateUser("ana", "right-password").ok());
  ASSERT_TRUE(a.Refresh().ok());
  auto as = [&a](const std::string& secret) { return a.Authenticate({"Bearer " + secret, ""}).status().code(); };
  // Distinct wrong secrets of the live key's id, in the form Sightline issues.
  // (A character before the digits always differs, so none is the right one.)
  std::string prefix = key->secret.substr(0, key->secret.size() - 4);
  prefix.back() = prefix.back() == 'x' ? 'y' : 'x';
  auto wrong = [&prefix](int i) {
    std::string n = std::to_string(1000 + i);
    return prefix + n.substr(n.size() - 4);
  };
  ASSERT_EQ(as(key->secret), StatusCode::kOk);        // verified: cached
  ASSERT_EQ(as(wrong(1)), StatusCode::kUnauthenticated);  // seen: negatively cached
  ASSERT_EQ(peak.load(), 1);

  hold = true;
  StatusCode held[2] = {StatusCode::kOk, StatusCode::kOk};
  std::vector<std::thread> holders;
  for (int i = 0; i < 2; ++i) holders.emplace_back([&, i]() { held[i] = as(wrong(10 + i)); });
  for (int spins = 0; inside.load() < 2 && spins < 5000; ++spins) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(inside.load(), 2);
  EXPECT_EQ(a.verifications_in_progress(), 2);
  EXPECT_EQ(as(wrong(20)), StatusCode::kUnavailable);  // at once, not queued
  EXPECT_EQ(a.refused_verifications(), 1u);
  EXPECT_EQ(as(key->secret), StatusCode::kOk);
  EXPECT_EQ(as(wrong(1)), StatusCode::kUnauthenticated);
  EXPECT_EQ(as("sk-lf-000000000000abcdefabcdefabcdefabcdefabcdefabcd"), StatusCode::kUnauthenticated);  // no such id
  auto login = a.Login("ana", "right-password", "127.0.0.1");
  EXPECT_EQ(login.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(login.busy);
  EXPECT_GT(login.retry_after_s, 0);
  EXPECT_EQ(a.refused_verifications(), 2u);
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  for (auto& t : holders) t.join();
  EXPECT_EQ(held[0], StatusCode::kUnauthenticated);
  EXPECT_EQ(held[1], StatusCode::kUnauthenticated);
  EXPECT_EQ(a.verifications_in_progress(), 0);
  // The busy refusal did not count against the user's login limit.
  EXPECT_TRUE(a.Login("ana", "right-password", "127.0.0.1").status.ok());

  hold = false;
  peak = 0;
  const uint64_t refused_before = a.refused_verifications();
  std::atomic<int> other{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 16; ++t) {
    flood.emplace_back([&, t]() {
      for (int i = 0; i < 20; ++i) {
        StatusCode c = as(wrong(100 + t * 20 + i));
        if (c != StatusCode::kUnauthenticated && c != StatusCode::kUnavailable) ++other;
      }
    });
  }
  for (auto& t : flood) t.join();
  EXPECT_LE(peak.load(), 2);
  EXPECT_GE(peak.load(), 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(a.refused_verifications(), refused_before);
  EXPECT_EQ(a.verifications_in_progress(), 0);
  EXPECT_EQ(as(key->secret), StatusCode::kOk);
}

TEST(ParseCredentials, SaysWhatWasPresentedWithoutTheDatabase) {
  using K = ParsedCredential::Kind;
  const std::string id = "0123456789ab";
  const std::string sk = "sk-lf-" + id + "abcdefghijklmnopqrstuvwxyzABCDEF";
  const std::string tok = "slt_" + id + "abcdefghijklmnopqrstuvwxyzABCDEF";
  const std::string sid(64, 'f');
  struct Case {
    std::string authorization, api_key, cookie;  // owned: Credentials only views them
    K kind;
    std::string id;
  };
  const std::vector<Case> cases = {
      {"", "", "", K::kNone, ""},
      {"Bearer " + sk, "", "", K::kApiKey, id},
      {"BEARER\t" + sk, "", "", K::kMalformed, ""},  // the scheme and the value are separated by a space
      {"Bearer " + tok, "", "", K::kToken, id},
      {"", "  " + sk + " ", "", K::kApiKey, id},
      {Basic("pk-lf-" + id, sk), "", "", K::kApiKey, id},
      {Basic("pk-lf-" + id, tok), "", "", K::kMalformed, ""},
      {Basic("pk-lf-" + id + "0", sk), "", "", K::kMalformed, ""},
      {"Basic ====", "", "", K::kMalformed, ""},
      {"Basic " + std::string(5000, 'A'), "", "", K::kMalformed, ""},
      {"Digest x", "", "", K::kMalformed, ""},
      {"", "", "a=b; sl_session=" + sid + "; c=d", K::kSession, sid},
      {"", "", " sl_session = " + sid, K::kSession, sid},
      {"", "", "sl_session=" + sid + "0", K::kMalformed, ""},
      {"", "", "sl_session=" + std::string(64, 'F'), K::kMalformed, ""},
      {"", "", "other=1", K::kNone, ""},
      {"", "", ";;;=;", K::kNone, ""},
      {"Bearer " + sk, "", "sl_session=" + sid, K::kApiKey, id},  // an explicit credential wins
      {"Bearer nope", "", "sl_session=" + sid, K::kMalformed, ""},
  };
  for (const auto& c : cases) {
    ParsedCredential p = ParseCredentials({c.authorization, c.api_key, c.cookie});
    EXPECT_EQ(p.kind, c.kind) << c.authorization << "|" << c.api_key << "|" << c.cookie;
    EXPECT_EQ(p.id, c.id) << c.authorization << "|" << c.api_key << "|" << c.cookie;
  }
}

TEST(ScopeProjects, NarrowsToWhatTheCallerMayRead) {
  Principal open = Principal::Open();
  std::vector<std::string> v;
  EXPECT_TRUE(ScopeProjects(open, &v));
  EXPECT_TRUE(v.empty());  // still "all"
  Principal p;
  p.projects = {{"a", Role::kViewer}, {"b", Role::kAdmin}};
  v = {};
  EXPECT_TRUE(ScopeProjects(p, &v));
  EXPECT_EQ(v, (std::vector<std::string>{"a", "b"}));
  v = {"b"};
  EXPECT_TRUE(ScopeProjects(p, &v));
  EXPECT_EQ(v, (std::vector<std::string>{"b"}));
  v = {"c"};
  EXPECT_FALSE(ScopeProjects(p, &v));
  Principal none;
  v = {};
  EXPECT_FALSE(ScopeProjects(none, &v));
}

}  // namespace
}  // namespace sightline::auth

namespace sightline::auth {
namespace {

class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() / ("sl_login_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(dir_);  // stale: left by a dead process that had our pid
    std::filesystem::create_directories(dir_);
    MetadataDb::Options o;
    o.iterations = 1000;
    admin_ = std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value();
    ASSERT_TRUE(admin_->CreateProject("alpha").ok());
    ASSERT_TRUE(admin_->CreateUser("ana", "right-password").ok());
    ASSERT_TRUE(admin_->SetRole("ana", "alpha", Role::kAdmin).ok());
    ASSERT_TRUE(admin_->CreateUser("nopw", "").ok());
    Authenticator::Options ao;
    ao.dummy_iterations = 1000;
    ao.login_max_failures = 3;
    ao.login_window_s = 60;
    ao.now_s = [this]() { return now_; };
    auth_ = std::make_unique<Authenticator>(std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value(), ao);
    ASSERT_TRUE(auth_->Refresh().ok());
  }
  void TearDown() override {
    auth_.reset();
    admin_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<Principal> WithCookie(const std::string& cookie) { return auth_->Authenticate({"", "", cookie}); }

  int64_t now_ = 1000;
  std::filesystem::path dir_;
  std::unique_ptr<MetadataDb> admin_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(LoginTest, PasswordOpensASessionThatReadsTheUsersProjects) {
  auto r = auth_->Login("ana", "right-password", "127.0.0.1");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto p = WithCookie("theme=dark; sl_session=" + r.session_id + "; x=y");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Principal::Kind::kSession);
  EXPECT_EQ(p->subject, "ana");
  EXPECT_TRUE(p->CanRead("alpha"));
  EXPECT_EQ(p->csrf, r.session.csrf);
  EXPECT_FALSE(WithCookie("sl_session=" + r.session_id + "0").ok());
  EXPECT_FALSE(WithCookie("sl_session=").ok());
  // An explicit credential wins over the cookie: a wrong one is not rescued by it.
  EXPECT_FALSE(auth_->Authenticate({"Bearer nope", "", "sl_session=" + r.session_id}).ok());
  auth_->Logout(r.session_id);
  EXPECT_FALSE(WithCookie("sl_session=" + r.session_id).ok());
}

TEST_F(LoginTest, EveryFailureLooksTheSame) {
  for (auto [user, pw] : std::vector<std::pair<std::string, std::string>>{
           {"ana", "wrong"}, {"ghost", "right-password"}, {"nopw", ""}, {"nopw", "x"}}) {
    auto r = auth_->Login(user, pw, "10.0.0.1");
    EXPECT_EQ(r.status.code(), StatusCode::kUnauthenticated) << user;
    EXPECT_EQ(r.status.message(), "wrong user name or password");
  }
}

TEST_F(LoginTest, RateLimitedPerUserAndPeer) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(auth_->Login("ana", "bad", "1.1.1.1").status.code(), StatusCode::kUnauthenticated);
  auto r = auth_->Login("ana", "right-password", "1.1.1.1");  // even the right one waits
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.retry_after_s, 60);
  EXPECT_TRUE(auth_->Login("ana", "right-password", "2.2.2.2").status.ok());  // another address
  now_ += 61;
  EXPECT_TRUE(auth_->Login("ana", "right-password", "1.1.1.1").status.ok());
}

TEST_F(LoginTest, SessionEndsWhenTheUserIsRemovedOrExpires) {
  auto r = auth_->Login("ana", "right-password", "p");
  ASSERT_TRUE(r.status.ok());
  now_ += 12 * 3600;
  EXPECT_FALSE(WithCookie("sl_session=" + r.session_id).ok());
  now_ = 1000;
  auto r2 = auth_->Login("ana", "right-password", "p");
  ASSERT_TRUE(WithCookie("sl_session=" + r2.session_id).ok());
  ASSERT_TRUE(admin_->RemoveUser("ana").ok());
  ASSERT_TRUE(auth_->MaybeRefresh().ok());
  EXPECT_FALSE(WithCookie("sl_session=" + r2.session_id).ok());
}

TEST_F(LoginTest, SessionsSurviveARestartAndEndWithAPasswordChange) {
  auto r = auth_->Login("ana", "right-password", "p");
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.known_user);
  // A new server process: a new authenticator on the same database.
  MetadataDb::Options o;
  o.iterations = 1000;
  Authenticator::Options ao;
  ao.dummy_iterations = 1000;
  ao.now_s = [this]() { return now_; };
  auth_ = std::make_unique<Authenticator>(std::move(MetadataDb::Open((dir_ / "meta.db").string(), o)).value(), ao);
  ASSERT_TRUE(auth_->Refresh().ok());
  auto p = WithCookie("sl_session=" + r.session_id);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->csrf, r.session.csrf);
  // The database holds only a hash of the session id.
  {
    std::ifstream in(dir_ / "meta.db", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream wal(dir_ / "meta.db-wal", std::ios::binary);
    bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(r.session_id), std::string::npos);
  }
  // A password change (by `sightline admin`) ends it at once, with no refresh.
  ASSERT_TRUE(admin_->SetPassword("ana", "new-password").ok());
  EXPECT_FALSE(WithCookie("sl_session=" + r.session_id).ok());
  ASSERT_TRUE(auth_->Refresh().ok());
  auto again = auth_->Login("ana", "new-password", "p");
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_TRUE(WithCookie("sl_session=" + again.session_id).ok());
}

TEST_F(LoginTest, ResultSaysWhetherTheNameWasAUserAndWhenTheWaitStarts) {
  auto ghost = auth_->Login("ghost", "x", "9.9.9.9");
  EXPECT_FALSE(ghost.known_user);
  auto a1 = auth_->Login("ana", "bad", "8.8.8.8");
  EXPECT_TRUE(a1.known_user);
  EXPECT_FALSE(a1.now_limited);
  EXPECT_FALSE(auth_->Login("ana", "bad", "8.8.8.8").now_limited);
  EXPECT_TRUE(auth_->Login("ana", "bad", "8.8.8.8").now_limited);  // the third of three
}

}  // namespace
}  // namespace sightline::auth
