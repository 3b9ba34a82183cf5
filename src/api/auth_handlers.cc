// Authentication at the HTTP edge (docs/auth.md): who the caller is, and
// GET /api/v1/auth/status, which the web UI asks before anything else:
//   {"mode":"open"|"required","tls":bool,"authenticated":bool,"kind":"open"|"api_key"|"token",
//    "subject":"...","projects":[{"name":"...","role":"..."}]}
// "open" means no key or user exists yet: everyone may read and write everything (the
// server allows it only on loopback unless --insecure). The status never names a
// project the caller cannot read.
//
// POST /api/v1/auth/login {"user":"...","password":"..."} -> 200 {"user","csrf_token"}
// with two cookies: sl_session (HttpOnly, SameSite=Strict; Secure under TLS) and
// sl_csrf (readable by the page, which echoes it in x-csrf-token on every POST: the
// double-submit pattern). 401 for every wrong user/password alike; 429 with
// Retry-After after 5 failures per user and client address in 15 minutes; 503 with
// Retry-After while every slow-hash slot is taken (docs/auth.md).
// POST /api/v1/auth/logout ends the session and clears both cookies.
// Logins (both outcomes) and logouts are written to the audit trail (docs/audit.md):
// the user's name (only when it names a user with a password: an unknown name may be
// a password typed into the wrong field), the client's address; never the password.
// A login whose record cannot be made durable opens no session (503).
#include <boost/beast/http/field.hpp>

#include <rapidjson/document.h>

#include "api/client_address.h"
#include "api/json_encode.h"
#include "api/router.h"
#include "auth/kdf.h"

namespace sightline::api {
namespace {

namespace http = boost::beast::http;


std::string_view KindName(auth::Principal::Kind k) {
  switch (k) {
    case auth::Principal::Kind::kOpen: return "open";
    case auth::Principal::Kind::kApiKey: return "api_key";
    case auth::Principal::Kind::kToken: return "token";
    case auth::Principal::Kind::kSession: return "session";
  }
  return "open";
}


}  // namespace

bool ApiRouter::CsrfOk(const HttpRequest& req, const auth::Principal& caller) {
  if (caller.kind != auth::Principal::Kind::kSession) return true;  // no ambient credential
  std::string_view sent = View(req[auth::kCsrfHeader.data()]);
  return !caller.csrf.empty() && auth::ConstantTimeEqual(sent, caller.csrf);
}

namespace {

std::string Cookie(std::string_view name, std::string_view value, bool http_only, bool secure, int64_t max_age) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; SameSite=Strict; Max-Age=" +
                  std::to_string(max_age);
  if (http_only) c += "; HttpOnly";
  if (secure) c += "; Secure";
  return c;
}

}  // namespace

void ApiRouter::Login(const std::string& body, const std::string& client, const std::string& remote,
                      const Responder& respond) {
  if (options_.auth == nullptr || !options_.auth->required())
    return respond(Error(Status::InvalidArgument("auth is off: there are no users to log in as")));
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("user") || !d["user"].IsString() ||
      !d.HasMember("password") || !d["password"].IsString())
    return respond(Error(Status::InvalidArgument("expected {\"user\":\"...\",\"password\":\"...\"}")));
  std::string user(d["user"].GetString(), d["user"].GetStringLength());
  std::string password(d["password"].GetString(), d["password"].GetStringLength());
  auto r = options_.auth->Login(user, password, client);
  // Into the audit trail: failures (not the refusals while rate-limited or while every
  // slow-hash slot is taken, which cost nothing and would let anyone grow the trail at
  // will) and successes.
  if (options_.audit != nullptr && r.status.code() != StatusCode::kResourceExhausted && !r.busy) {
    audit::AuditRecord rec;
    rec.kind = audit::Kind::kAdmin;
    rec.actor.principal = r.status.ok() ? "user:" + user : "anonymous";
    rec.actor.remote = remote;
    rec.action = "auth.login";
    rec.target = r.known_user ? "user/" + user : "user";
    rec.outcome = r.status.ok() ? "ok" : r.status.code() == StatusCode::kUnauthenticated ? "denied" : "error";
    rapidjson::StringBuffer b;
    JsonWriter dw(b);
    dw.StartObject();
    dw.Key("address");
    Str(dw, client);
    if (!r.status.ok()) {
      dw.Key("known_user");
      dw.Bool(r.known_user);
      if (r.now_limited) {
        dw.Key("limited");
        dw.Bool(true);
      }
    }
    dw.EndObject();
    rec.details_json.assign(b.GetString(), b.GetSize());
    Status st = options_.audit->Append(std::move(rec));
    if (!st.ok() && r.status.ok()) {
      options_.auth->Logout(r.session_id);  // no record, no session
      return respond(Error(Status::Unavailable("audit trail: " + st.message())));
    }
  }
  if (!r.status.ok()) {
    HttpResponse res = Error(r.status);
    if (r.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(r.retry_after_s));
    return respond(std::move(res));
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("user");
  Str(w, user);
  w.Key("csrf_token");
  Str(w, r.session.csrf);
  w.EndObject();
  HttpResponse res = Json(200, std::string(buf.GetString(), buf.GetSize()));
  int64_t age = r.session.expires_s > 0 ? 12 * 3600 : 0;
  res.insert(http::field::set_cookie, Cookie(auth::kSessionCookie, r.session_id, true, options_.secure_cookies, age));
  res.insert(http::field::set_cookie, Cookie(auth::kCsrfCookie, r.session.csrf, false, options_.secure_cookies, age));
  res.set(http::field::cache_control, "no-store");
  respond(std::move(res));
}

void ApiRouter::Logout(const auth::Principal& caller, audit::Actor actor, Responder respond) {
  if (options_.auth != nullptr && !caller.session_id.empty()) options_.auth->Logout(caller.session_id);
  HttpResponse res = Json(200, "{}");
  res.insert(http::field::set_cookie, Cookie(auth::kSessionCookie, "", true, options_.secure_cookies, 0));
  res.insert(http::field::set_cookie, Cookie(auth::kCsrfCookie, "", false, options_.secure_cookies, 0));
  if (options_.audit == nullptr || caller.session_id.empty()) return respond(std::move(res));
  // The session is over whatever the trail says; the answer waits for the record.
  audit::AuditRecord rec;
  rec.kind = audit::Kind::kAdmin;
  rec.actor = std::move(actor);
  rec.action = "auth.logout";
  rec.target = "user/" + caller.subject;
  std::vector<audit::AuditRecord> v;
  v.push_back(std::move(rec));
  auto shared = std::make_shared<HttpResponse>(std::move(res));
  // Admin actions answer once HEAD covers their records, as Append does.
  options_.audit->AppendAsync(
      std::move(v), [respond, shared](Status) { respond(std::move(*shared)); }, /*after_head=*/true);
}

Result<auth::Principal> ApiRouter::Caller(const HttpRequest& req) {
  if (options_.auth == nullptr) return auth::Principal::Open();
  auth::Credentials c;
  c.authorization = View(req[http::field::authorization]);
  c.api_key = View(req["x-sightline-api-key"]);
  c.cookie = View(req[http::field::cookie]);
  return options_.auth->Authenticate(c);
}

std::string ApiRouter::LoginAddress(const HttpRequest& req) const {
  std::string forwarded;
  auto range = req.equal_range("x-forwarded-for");  // several headers are one list
  for (auto it = range.first; it != range.second; ++it) {
    if (!forwarded.empty()) forwarded += ',';
    forwarded.append(it->value().data(), it->value().size());
  }
  return ClientAddress(std::string(View(req[kPeerAddressField])), forwarded, options_.trusted_proxies);
}

HttpResponse ApiRouter::AuthStatus(const HttpRequest& req) {
  bool required = options_.auth != nullptr && options_.auth->required();
  auto who = Caller(req);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("mode");
  Str(w, required ? "required" : "open");
  w.Key("tls");
  w.Bool(options_.tls);
  w.Key("authenticated");
  w.Bool(who.ok());
  if (who.ok()) {
    w.Key("kind");
    Str(w, KindName(who->kind));
    if (!who->subject.empty()) {
      w.Key("subject");
      Str(w, who->subject);
    }
    if (!who->all_projects) {
      w.Key("projects");
      w.StartArray();
      for (const auto& [name, role] : who->projects) {
        w.StartObject();
        w.Key("name");
        Str(w, name);
        w.Key("role");
        Str(w, auth::RoleName(role));
        w.EndObject();
      }
      w.EndArray();
    }
  }
  w.EndObject();
  return Json(200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace sightline::api
