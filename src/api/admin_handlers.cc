// Keys, users and tokens over HTTP (docs/api.md, "Keys, users and tokens"): the same
// changes as `sightline admin`, for an admin, each recorded like the CLI's through
// meta.db's audit outbox (written in the change's transaction, moved into the trail
// by the server within a second), with the caller and its address as the actor.
//
//   GET    /api/v1/admin/projects                          the projects the caller administers
//   GET    /api/v1/admin/projects/{project}/keys           that project's API keys (never a secret)
//   POST   /api/v1/admin/projects/{project}/keys           {"name":"..."} -> 201, the secret shown once
//   POST   /api/v1/admin/keys/{key}/rotate                 -> the replacement, the secret shown once
//   DELETE /api/v1/admin/keys/{key}                        revokes (key: its id or public key)
//   GET    /api/v1/admin/users                             users and their roles (see below)
//   POST   /api/v1/admin/users                             {"name":"...","password":"..."?} -> 201
//   PUT    /api/v1/admin/users/{user}/projects/{project}   {"role":"admin|member|viewer"}
//   DELETE /api/v1/admin/users/{user}/projects/{project}   takes the role away
//   GET    /api/v1/admin/tokens                            CLI tokens the caller may revoke
//   DELETE /api/v1/admin/tokens/{token_id}                 revokes
//
// Who may (the router already refused callers who are admin of no project with 403):
// a project's keys and roles need the admin role in that project (403 otherwise); a
// key id of a project the caller does not administer answers the same 404 as an
// unknown one. Users: any admin may create one (with no role, it reads nothing); the
// list shows the users with a role in a project the caller administers (only those
// roles) and the users with no project. Tokens: the caller's own, and those of users
// whose every role is in a project the caller administers. The open mode (no key or
// user yet) and an admin of every project may do everything.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <set>

#include <boost/beast/http/field.hpp>

#include "api/json_encode.h"
#include "api/router.h"
#include "auth/metadata_db.h"

namespace sightline::api {
namespace {

namespace http = boost::beast::http;


bool Everything(const auth::Principal& c) { return c.all_projects || c.admin_everywhere; }

// The caller may manage user (revoke their tokens): themself, or a user whose every
// role is in a project the caller administers.
bool CanManageUser(const auth::Principal& c, const auth::UserInfo& user) {
  if (Everything(c)) return true;
  if ((c.kind == auth::Principal::Kind::kToken || c.kind == auth::Principal::Kind::kSession) && c.subject == user.name)
    return true;
  if (user.roles.empty()) return false;
  for (const auto& [project, role] : user.roles)
    if (!c.HasRole(project, auth::Role::kAdmin)) return false;
  return true;
}

// 409 {"error":{"code":"already_exists","message":...}}.
HttpResponse Conflict(const std::string& message) {
  return ApiRouter::Json(409, ErrorJson("already_exists", message));
}

HttpResponse NotAdminOf(const std::string& project) {
  return ApiRouter::Error(
      Status::PermissionDenied("this needs the admin role in project " + project));
}

void WriteKey(JsonWriter& w, const auth::ApiKeyInfo& k) {
  w.StartObject();
  w.Key("id");
  Str(w, k.id);
  w.Key("project");
  Str(w, k.project);
  w.Key("name");
  Str(w, k.name);
  w.Key("public_key");
  Str(w, k.public_key);
  w.Key("created_ms");
  w.Int64(k.created_ms);
  w.Key("state");
  Str(w, k.revoked ? "revoked" : "live");
}

HttpResponse NewKeyResponse(int status, const auth::NewApiKey& k) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  WriteKey(w, k.info);
  w.Key("secret_key");
  Str(w, k.secret);
  w.EndObject();
  HttpResponse res = ApiRouter::Json(status, std::string(buf.GetString(), buf.GetSize()));
  res.set(http::field::cache_control, "no-store");  // the secret is shown this once
  return res;
}

// The body as a JSON object with only the members in `allowed` (an empty body is {}).
// InvalidArgument saying what is wrong: not JSON (with the byte offset), not an
// object, or a member that is not one of `allowed` (named, so a misspelt field is
// not silently ignored).
Result<rapidjson::Document> BodyObject(const std::string& body, std::initializer_list<const char*> allowed) {
  rapidjson::Document d;
  if (body.empty()) {
    d.SetObject();
    return d;
  }
  d.Parse(body.data(), body.size());
  if (d.HasParseError())
    return Status::InvalidArgument("the body is not valid JSON (" + std::string(rapidjson::GetParseError_En(d.GetParseError())) +
                                   " at byte " + std::to_string(d.GetErrorOffset()) + ")");
  if (!d.IsObject()) return Status::InvalidArgument("the body must be a JSON object");
  // By index: clang warns that C++20 finds the iterators' != ambiguous.
  for (rapidjson::SizeType i = 0; i < d.MemberCount(); ++i) {
    const auto& m = *(d.MemberBegin() + i);
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    bool known = false;
    std::string expected;
    for (const char* a : allowed) {
      known = known || name == a;
      expected += std::string(expected.empty() ? "" : ", ") + "\"" + a + "\"";
    }
    if (!known) {
      // The member's name is echoed only when short and printable (it is the caller's own text).
      bool printable = name.size() <= 64;
      for (char c : name) printable = printable && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
      return Status::InvalidArgument("unknown field " + (printable ? "\"" + std::string(name) + "\"" : std::string("in the body")) +
                                     (expected.empty() ? ": this request takes no body fields" : ": expected " + expected));
    }
  }
  return d;
}

// An optional string member ("" when absent or null); InvalidArgument naming the
// field when it is of another type.
Result<std::string> StringMember(const rapidjson::Document& d, const char* name) {
  if (!d.HasMember(name) || d[name].IsNull()) return std::string();
  if (!d[name].IsString()) return Status::InvalidArgument(std::string("\"") + name + "\" must be a string");
  return std::string(d[name].GetString(), d[name].GetStringLength());
}

// The same, required and not empty.
Result<std::string> RequiredString(const rapidjson::Document& d, const char* name, std::string_view what) {
  SL_ASSIGN_OR_RETURN(std::string v, StringMember(d, name));
  if (v.empty()) return Status::InvalidArgument(std::string("\"") + name + "\" is required: " + std::string(what));
  return v;
}

// A field's error with the field named first, unless the message already names it.
Status Field(const char* name, const Status& st) {
  if (st.ok() || st.message().find(std::string("\"") + name + "\"") != std::string::npos) return st;
  return Status::InvalidArgument(std::string("\"") + name + "\": " + st.message());
}

// The key (id or public key) the caller may administer, or NotFound alike for an
// unknown key and another project's.
Result<auth::ApiKeyInfo> FindKey(auth::MetadataDb& db, const std::string& key, const auth::Principal& caller) {
  // A secret does not belong in a URL (proxies and access logs keep paths): refused
  // without being echoed or looked up.
  if (auth::KeyIdOfSecret(key).has_value())
    return Status::InvalidArgument("name the key by its id or public key (pk-lf-...), never by its secret");
  std::string id = auth::KeyIdOfPublic(key).value_or(key);
  SL_ASSIGN_OR_RETURN(auto keys, db.ListApiKeys(""));
  for (const auto& k : keys)
    if (k.id == id && !k.revoked && caller.HasRole(k.project, auth::Role::kAdmin)) return k;
  return Status::NotFound("no live API key with that id that you administer");  // never echoes what was sent
}

HttpResponse Listing(const char* name, const std::function<void(JsonWriter&)>& items) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key(name);
  w.StartArray();
  items(w);
  w.EndArray();
  w.EndObject();
  return ApiRouter::Json(200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace

HttpResponse ApiRouter::AdminRequest(Route route, http::verb method, const ParsedTarget& target,
                                     const std::string& body, const auth::Principal& caller,
                                     const audit::Actor& actor) {
  if (options_.auth == nullptr)
    return Error(Status::NotFound("keys and users are off: this server has no metadata database"));
  const auto& seg = target.segments;
  // A connection of its own, named for the audit trail as `sightline admin`'s is.
  auth::MetadataDb::Options o = options_.auth->db()->options();
  o.actor = "api:" + actor.principal + (actor.remote.empty() ? "" : " (" + actor.remote + ")");
  auto opened = auth::MetadataDb::Open(options_.auth->db()->path(), o);
  if (!opened.ok()) return Error(Status::Unavailable("the metadata database: " + opened.status().message()));
  auth::MetadataDb& db = **opened;
  // Changes are seen by the authenticator now, not at its next once-a-second reload.
  auto done = [this](HttpResponse res) {
    if (res.result_int() < 300) (void)options_.auth->Refresh();
    return res;
  };

  switch (route) {
    case kAdminProjects: {
      auto projects = db.ListProjects();
      if (!projects.ok()) return Error(projects.status());
      return Listing("projects", [&](JsonWriter& w) {
        for (const auto& p : *projects) {
          if (!caller.HasRole(p.name, auth::Role::kAdmin)) continue;
          w.StartObject();
          w.Key("name");
          Str(w, p.name);
          w.Key("created_ms");
          w.Int64(p.created_ms);
          w.EndObject();
        }
      });
    }
    case kAdminKeys: {
      const std::string& project = seg[4];
      if (!caller.HasRole(project, auth::Role::kAdmin)) return NotAdminOf(project);
      if (method == http::verb::get) {
        auto projects = db.ListProjects();
        if (!projects.ok()) return Error(projects.status());
        bool exists = false;
        for (const auto& p : *projects) exists = exists || p.name == project;
        if (!exists) return Error(Status::NotFound("no project " + project));
        auto keys = db.ListApiKeys(project);
        if (!keys.ok()) return Error(keys.status());
        return Listing("keys", [&](JsonWriter& w) {
          for (const auto& k : *keys) {
            WriteKey(w, k);
            w.EndObject();
          }
        });
      }
      auto d = BodyObject(body, {"name"});
      if (!d.ok()) return Error(d.status());
      auto name = StringMember(*d, "name");
      if (!name.ok()) return Error(name.status());
      if (Status st = auth::ValidateLabel("key", *name); !st.ok()) return Error(Field("name", st));
      auto created = db.CreateApiKey(project, *name);
      if (!created.ok()) return Error(created.status());
      return done(NewKeyResponse(201, *created));
    }
    case kAdminKeyRotate:
    case kAdminKey: {
      if (auto d = BodyObject(body, {}); !d.ok()) return Error(d.status());
      auto key = FindKey(db, seg[4], caller);
      if (!key.ok()) return Error(key.status());
      if (route == kAdminKeyRotate) {
        auto rotated = db.RotateApiKey(key->id);
        if (!rotated.ok()) return Error(rotated.status());
        return done(NewKeyResponse(200, *rotated));
      }
      if (Status st = db.RevokeApiKey(key->id); !st.ok()) return Error(st);
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      auth::ApiKeyInfo revoked = *key;
      revoked.revoked = true;
      WriteKey(w, revoked);
      w.EndObject();
      return done(Json(200, std::string(buf.GetString(), buf.GetSize())));
    }
    case kAdminUsers: {
      auto users = db.ListUsers();
      if (!users.ok()) return Error(users.status());
      if (method == http::verb::get) {
        return Listing("users", [&](JsonWriter& w) {
          for (const auto& u : *users) {
            std::vector<std::pair<std::string, auth::Role>> shown;
            for (const auto& [p, r] : u.roles)
              if (caller.HasRole(p, auth::Role::kAdmin)) shown.emplace_back(p, r);
            if (!Everything(caller) && shown.empty() && !u.roles.empty()) continue;  // only in others' projects
            w.StartObject();
            w.Key("name");
            Str(w, u.name);
            w.Key("password");
            w.Bool(u.has_password);
            w.Key("roles");
            w.StartArray();
            for (const auto& [p, r] : shown) {
              w.StartObject();
              w.Key("project");
              Str(w, p);
              w.Key("role");
              Str(w, auth::RoleName(r));
              w.EndObject();
            }
            w.EndArray();
            w.EndObject();
          }
        });
      }
      auto d = BodyObject(body, {"name", "password"});
      if (!d.ok()) return Error(d.status());
      auto name = RequiredString(*d, "name", "the new user's name");
      if (!name.ok()) return Error(name.status());
      if (Status st = auth::ValidateName("user", *name); !st.ok()) return Error(Field("name", st));
      auto password = StringMember(*d, "password");
      if (!password.ok()) return Error(password.status());
      // No password: the user signs in with CLI tokens only (as `sightline admin users create`).
      if (!password->empty())
        if (Status st = auth::ValidatePassword(*password); !st.ok()) return Error(Field("password", st));
      // User names are global: a taken one is a conflict, not a malformed request.
      for (const auto& u : *users)
        if (u.name == *name) return Conflict("user " + *name + " already exists");
      auto created = db.CreateUser(*name, *password);
      if (!created.ok()) {
        // Created by another connection since the list was read.
        if (created.status().message().find("already exists") != std::string::npos)
          return Conflict(created.status().message());
        return Error(created.status());
      }
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      w.Key("name");
      Str(w, created->name);
      w.Key("password");
      w.Bool(created->has_password);
      w.Key("roles");
      w.StartArray();
      w.EndArray();
      w.EndObject();
      return done(Json(201, std::string(buf.GetString(), buf.GetSize())));
    }
    case kAdminUserRole: {
      const std::string& user = seg[4];
      const std::string& project = seg[6];
      if (!caller.HasRole(project, auth::Role::kAdmin)) return NotAdminOf(project);
      std::optional<auth::Role> role;
      if (method == http::verb::put) {
        auto d = BodyObject(body, {"role"});
        if (!d.ok()) return Error(d.status());
        auto text = RequiredString(*d, "role", "admin, member or viewer");
        if (!text.ok()) return Error(text.status());
        role = auth::ParseRole(*text);
        if (!role)
          return Error(Status::InvalidArgument(
              "\"role\" must be admin, member or viewer (to take a role away: DELETE this path)"));
      } else if (auto d = BodyObject(body, {}); !d.ok()) {
        return Error(d.status());
      }
      if (Status st = db.SetRole(user, project, role); !st.ok()) return Error(st);
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      w.Key("user");
      Str(w, user);
      w.Key("project");
      Str(w, project);
      w.Key("role");
      Str(w, role ? auth::RoleName(*role) : std::string_view("none"));
      w.EndObject();
      return done(Json(200, std::string(buf.GetString(), buf.GetSize())));
    }
    case kAdminTokens:
    case kAdminToken: {
      auto users = db.ListUsers();
      if (!users.ok()) return Error(users.status());
      std::set<std::string> manageable;
      for (const auto& u : *users)
        if (CanManageUser(caller, u)) manageable.insert(u.name);
      auto tokens = db.ListTokens();
      if (!tokens.ok()) return Error(tokens.status());
      if (route == kAdminTokens) {
        return Listing("tokens", [&](JsonWriter& w) {
          for (const auto& t : *tokens) {
            if (manageable.count(t.user) == 0) continue;
            w.StartObject();
            w.Key("id");
            Str(w, t.id);
            w.Key("user");
            Str(w, t.user);
            w.Key("name");
            Str(w, t.name);
            w.Key("created_ms");
            w.Int64(t.created_ms);
            w.Key("state");
            Str(w, t.revoked ? "revoked" : "live");
            w.EndObject();
          }
        });
      }
      if (auto d = BodyObject(body, {}); !d.ok()) return Error(d.status());
      const std::string& id = seg[4];
      for (const auto& t : *tokens) {
        if (t.id != id || t.revoked || manageable.count(t.user) == 0) continue;
        if (Status st = db.RevokeToken(t.id); !st.ok()) return Error(st);
        return done(Json(200, "{\"id\":\"" + t.id + "\",\"state\":\"revoked\"}"));
      }
      return Error(Status::NotFound("no live token with that id that you may revoke"));
    }
    default: return Error(Status::Internal("unrouted admin request"));
  }
}

}  // namespace sightline::api
