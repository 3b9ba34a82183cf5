// libFuzzer target: the credentials a request presents (auth/authenticator.h) —
// Authorization (Basic pair, Bearer), x-sightline-api-key, the Cookie header and the
// CSRF header. Input: four lines, one per header. "@ID@", "@SK@", "@PK@", "@BASIC@"
// and "@SID@" in the input become a real key's id, secret, public key and Basic
// credential ("Basic base64(pk:sk)") and a real session's id,
// so the fuzzer reaches the verified, wrong-secret and session paths too.
// Any bytes must give a clean answer: never a crash, and success only for the real
// key or the real session.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/authenticator.h"
#include "auth/kdf.h"

namespace {

using namespace sightline::auth;

struct World {
  std::unique_ptr<Authenticator> auth;
  NewApiKey key;
  std::string basic;
  std::string session;
  std::string csrf;
};

World* Make() {
  auto* w = new World;
  MetadataDb::Options o;
  o.iterations = 1;  // the slow hash is not what is fuzzed
  auto db = std::move(MetadataDb::Open(":memory:", o)).value();
  (void)db->CreateProject("p");
  w->key = std::move(db->CreateApiKey("p", "k")).value();
  std::string pair = w->key.info.public_key + ":" + w->key.secret;
  std::string b64(4 * ((pair.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(pair.data()),
                          static_cast<int>(pair.size()));
  b64.resize(static_cast<size_t>(n));
  w->basic = "Basic " + b64;
  (void)db->CreateUser("u", "password-for-fuzzing");
  (void)db->SetRole("u", "p", Role::kViewer);
  Authenticator::Options ao;
  ao.dummy_iterations = 1;
  w->auth = std::make_unique<Authenticator>(std::move(db), ao);
  (void)w->auth->Refresh();
  auto login = w->auth->Login("u", "password-for-fuzzing", "127.0.0.1");
  w->session = login.session_id;
  w->csrf = login.session.csrf;
  return w;
}

void ReplaceAll(std::string* s, std::string_view from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = Make();
  std::string in(reinterpret_cast<const char*>(data), size);
  ReplaceAll(&in, "@BASIC@", w->basic);
  ReplaceAll(&in, "@SK@", w->key.secret);
  ReplaceAll(&in, "@PK@", w->key.info.public_key);
  ReplaceAll(&in, "@ID@", w->key.info.id);
  ReplaceAll(&in, "@SID@", w->session);
  std::string_view rest(in);
  std::string_view field[4];
  for (auto& f : field) {
    size_t nl = rest.find('\n');
    f = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  Credentials c{field[0], field[1], field[2]};

  ParsedCredential p = ParseCredentials(c);
  using K = ParsedCredential::Kind;
  if ((p.kind == K::kApiKey || p.kind == K::kToken) && p.id.size() != 12) __builtin_trap();
  if (p.kind == K::kSession && p.id.size() != 64) __builtin_trap();
  if (p.kind == K::kApiKey && !KeyIdOfSecret(p.secret)) __builtin_trap();
  (void)SessionIdFromCookie(field[2]);

  auto who = w->auth->Authenticate(c);
  if (who.ok()) {
    // Only the real key (its exact secret) or the real session may pass.
    if (who->kind == Principal::Kind::kApiKey && (who->subject != w->key.info.id || p.secret != w->key.secret))
      __builtin_trap();
    if (who->kind == Principal::Kind::kSession) {
      if (p.id != w->session || who->subject != "u") __builtin_trap();
      // The CSRF double submit: only the session's own token matches.
      bool csrf_ok = ConstantTimeEqual(field[3], who->csrf);
      if (csrf_ok != (field[3] == w->csrf)) __builtin_trap();
    }
    if (who->kind == Principal::Kind::kToken || who->kind == Principal::Kind::kOpen) __builtin_trap();
  } else if (who.status().code() != sightline::StatusCode::kUnauthenticated) {
    __builtin_trap();
  }
  return 0;
}
