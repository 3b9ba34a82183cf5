// `sightline admin`: projects, API keys, users and CLI tokens (docs/auth.md). It works
// on DATA/meta.db directly (no server needed), and safely beside a running server:
// SQLite's WAL journal and busy timeout let both use the file, and the server picks up
// every change within a second.
//
//   sightline admin projects create NAME | list
//   sightline admin keys create --project P [--name N] | list [--project P] | rotate KEY | revoke KEY
//   sightline admin users create NAME [--password-stdin] | set-role NAME --project P --role admin|member|viewer|none
//                         | set-password NAME (reads stdin) | remove NAME | list
//   sightline admin tokens create --user U [--name N] | revoke TOKEN | list
//
// A secret (key or token) is printed once, by the command that creates it; only its
// PBKDF2 hash is kept. KEY is a key's id, its public key, or its secret.
// Every change is recorded for the audit trail in the same transaction (meta.db's
// outbox, which the server moves into DATA/audit/), as "admin-cli:<unix user>".
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/metadata_db.h"
#include "cli/commands.h"

namespace sightline::cli {
namespace {

using auth::MetadataDb;

struct AdminArgs {
  std::string data;
  std::string name, project, role, user, key;
  bool password_stdin = false;
};

std::string DataDir(const AdminArgs& a) {
  if (!a.data.empty()) return a.data;
  if (const char* d = std::getenv("SIGHTLINE_DATA"); d != nullptr && *d != '\0') return d;
  return "./sightline-data";
}

// Who runs the command, for the audit trail: the Unix account (and the account sudo
// was run from, when it was).
std::string CliActor() {
  std::string who = "uid" + std::to_string(geteuid());
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found != nullptr) who = found->pw_name;
  std::string actor = "admin-cli:" + who;
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0' && std::strlen(sudo) <= 64)
    actor += " (sudo from " + std::string(sudo) + ")";
  return actor;
}

Result<std::unique_ptr<MetadataDb>> OpenDb(const AdminArgs& a, bool create) {
  std::string dir = DataDir(a);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (!create) return Status::NotFound("no data directory " + dir + " (--data DIR or SIGHTLINE_DATA)");
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  }
  MetadataDb::Options o;
  o.actor = CliActor();
  return MetadataDb::Open((std::filesystem::path(dir) / "meta.db").string(), o);
}

std::string Time(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One JSON object from string pairs (values already strings).
void PrintJsonObject(const std::vector<std::pair<std::string, std::string>>& kv) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  for (const auto& [k, v] : kv) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.EndObject();
  std::printf("%s\n", sb.GetString());
}

void PrintNewKey(const CommandContext& ctx, const auth::NewApiKey& k) {
  if (ctx.json) {
    PrintJsonObject({{"id", k.info.id}, {"project", k.info.project}, {"name", k.info.name},
                     {"public_key", k.info.public_key}, {"secret_key", k.secret}});
    return;
  }
  std::printf("project     %s\nid          %s\npublic key  %s\nsecret key  %s\n\n", k.info.project.c_str(),
              k.info.id.c_str(), k.info.public_key.c_str(), k.secret.c_str());
  std::printf("The secret is shown this once; only its hash is kept. Send it as\n"
              "  OpenTelemetry: OTEL_EXPORTER_OTLP_HEADERS=x-sightline-api-key=%s\n"
              "  Langfuse SDK:  LANGFUSE_PUBLIC_KEY=%s LANGFUSE_SECRET_KEY=<the secret>\n",
              k.secret.c_str(), k.info.public_key.c_str());
}

// Runs fn with an open database; reports failures as `sightline admin: ...`.
void Run(CommandContext& ctx, const AdminArgs& a, bool create, const std::function<Status(MetadataDb&)>& fn) {
  auto db = OpenDb(a, create);
  Status st = db.ok() ? fn(**db) : db.status();
  if (!st.ok()) {
    std::fprintf(stderr, "sightline admin: %s\n", st.message().c_str());
    ctx.exit_code = st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
}

Result<std::string> ReadPasswordStdin() {
  std::string line;
  if (!std::getline(std::cin, line)) return Status::InvalidArgument("expected the password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  SL_RETURN_IF_ERROR(auth::ValidatePassword(line));  // the admin API's rule too
  return line;
}

}  // namespace

void RegisterAdmin(CLI::App& app, CommandContext& ctx) {
  auto a = std::make_shared<AdminArgs>();
  auto* admin = app.add_subcommand("admin", "Manage projects, API keys, users and tokens in DATA/meta.db (docs/auth.md)");
  admin->require_subcommand(1);
  admin->add_option("--data", a->data, "Data directory (env SIGHTLINE_DATA; default ./sightline-data)");
  admin->add_flag("--json", ctx.json, "Machine-readable JSON output");

  // projects
  auto* projects = admin->add_subcommand("projects", "Projects: the unit of isolation")->require_subcommand(1);
  auto* pc = projects->add_subcommand("create", "Create a project");
  pc->add_option("name", a->name, "Project name ([A-Za-z0-9._-], up to 64)")->required();
  pc->callback([&ctx, a]() {
    Run(ctx, *a, true, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto p, db.CreateProject(a->name));
      if (ctx.json) PrintJsonObject({{"name", p.name}, {"created", Time(p.created_ms)}});
      else std::printf("created project %s\n", p.name.c_str());
      return Status::OK();
    });
  });
  projects->add_subcommand("list", "List projects")->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto list, db.ListProjects());
      for (const auto& p : list) {
        if (ctx.json) PrintJsonObject({{"name", p.name}, {"created", Time(p.created_ms)}});
        else std::printf("%-32s %s\n", p.name.c_str(), Time(p.created_ms).c_str());
      }
      return Status::OK();
    });
  });

  // keys
  auto* keys = admin->add_subcommand("keys", "API keys: a project's credentials for sending spans")->require_subcommand(1);
  auto* kc = keys->add_subcommand("create", "Create an API key (the secret is printed once)");
  kc->add_option("--project", a->project, "The project its spans go to")->required();
  kc->add_option("--name", a->name, "A label (e.g. the service or environment)");
  kc->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto k, db.CreateApiKey(a->project, a->name));
      PrintNewKey(ctx, k);
      return Status::OK();
    });
  });
  auto* kl = keys->add_subcommand("list", "List API keys (never their secrets)");
  kl->add_option("--project", a->project, "Only this project's");
  kl->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto list, db.ListApiKeys(a->project));
      for (const auto& k : list) {
        if (ctx.json) {
          PrintJsonObject({{"id", k.id}, {"project", k.project}, {"name", k.name}, {"public_key", k.public_key},
                           {"created", Time(k.created_ms)}, {"state", k.revoked ? "revoked" : "live"}});
        } else {
          std::printf("%-20s %-24s %-16s %s %s\n", k.public_key.c_str(), k.project.c_str(), k.name.c_str(),
                      Time(k.created_ms).c_str(), k.revoked ? "revoked" : "live");
        }
      }
      return Status::OK();
    });
  });
  auto* kr = keys->add_subcommand("rotate", "Revoke a key and create its replacement (same project and name)");
  kr->add_option("key", a->key, "Key id, public key or secret")->required();
  kr->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto k, db.RotateApiKey(a->key));
      PrintNewKey(ctx, k);
      return Status::OK();
    });
  });
  auto* kv = keys->add_subcommand("revoke", "Revoke a key: the server refuses it within a second");
  kv->add_option("key", a->key, "Key id, public key or secret")->required();
  kv->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_RETURN_IF_ERROR(db.RevokeApiKey(a->key));
      if (!ctx.json) std::printf("revoked\n");
      return Status::OK();
    });
  });

  // users
  auto* users = admin->add_subcommand("users", "Users: people, with a role per project")->require_subcommand(1);
  auto* uc = users->add_subcommand("create", "Create a user");
  uc->add_option("name", a->name, "User name ([A-Za-z0-9._-], up to 64)")->required();
  uc->add_flag("--password-stdin", a->password_stdin, "Read a password for UI login from standard input");
  uc->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      std::string password;
      if (a->password_stdin) {
        SL_ASSIGN_OR_RETURN(password, ReadPasswordStdin());
      }
      SL_ASSIGN_OR_RETURN(auto u, db.CreateUser(a->name, password));
      if (!ctx.json) std::printf("created user %s%s\n", u.name.c_str(), u.has_password ? " (with a password)" : "");
      return Status::OK();
    });
  });
  auto* ur = users->add_subcommand("set-role", "Give a user a role on a project (none: take it away)");
  ur->add_option("name", a->name, "User name")->required();
  ur->add_option("--project", a->project, "Project")->required();
  ur->add_option("--role", a->role, "admin, member, viewer or none")->required();
  ur->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      std::optional<auth::Role> role;
      if (a->role != "none") {
        role = auth::ParseRole(a->role);
        if (!role) return Status::InvalidArgument("--role: expected admin, member, viewer or none");
      }
      SL_RETURN_IF_ERROR(db.SetRole(a->name, a->project, role));
      if (!ctx.json) std::printf("%s is %s on %s\n", a->name.c_str(), a->role.c_str(), a->project.c_str());
      return Status::OK();
    });
  });
  auto* up = users->add_subcommand("set-password", "Set a user's UI password (read from standard input)");
  up->add_option("name", a->name, "User name")->required();
  up->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(std::string password, ReadPasswordStdin());
      return db.SetPassword(a->name, password);
    });
  });
  auto* ux = users->add_subcommand("remove", "Remove a user, their roles and their tokens");
  ux->add_option("name", a->name, "User name")->required();
  ux->callback([&ctx, a]() { Run(ctx, *a, false, [&](MetadataDb& db) { return db.RemoveUser(a->name); }); });
  users->add_subcommand("list", "List users and their roles")->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto list, db.ListUsers());
      for (const auto& u : list) {
        std::string roles;
        for (const auto& [p, r] : u.roles) roles += (roles.empty() ? "" : ",") + p + ":" + std::string(auth::RoleName(r));
        if (ctx.json) PrintJsonObject({{"name", u.name}, {"roles", roles}, {"password", u.has_password ? "yes" : "no"}});
        else std::printf("%-24s %s\n", u.name.c_str(), roles.empty() ? "(no project)" : roles.c_str());
      }
      return Status::OK();
    });
  });

  // tokens
  auto* tokens = admin->add_subcommand("tokens", "CLI tokens: a user's credential for reading")->require_subcommand(1);
  auto* tc = tokens->add_subcommand("create", "Create a token for a user (printed once)");
  tc->add_option("--user", a->user, "Whose token; it reads what the user's roles allow")->required();
  tc->add_option("--name", a->name, "A label (e.g. the machine)");
  tc->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto t, db.CreateToken(a->user, a->name));
      if (ctx.json) {
        PrintJsonObject({{"id", t.info.id}, {"user", t.info.user}, {"name", t.info.name}, {"token", t.secret}});
      } else {
        std::printf("token  %s\n\nShown this once. Use it with SIGHTLINE_TOKEN=<token> sightline traces ...\n",
                    t.secret.c_str());
      }
      return Status::OK();
    });
  });
  auto* tr = tokens->add_subcommand("revoke", "Revoke a token");
  tr->add_option("token", a->key, "Token id or the token itself")->required();
  tr->callback([&ctx, a]() { Run(ctx, *a, false, [&](MetadataDb& db) { return db.RevokeToken(a->key); }); });
  tokens->add_subcommand("list", "List tokens (never their secrets)")->callback([&ctx, a]() {
    Run(ctx, *a, false, [&](MetadataDb& db) -> Status {
      SL_ASSIGN_OR_RETURN(auto list, db.ListTokens());
      for (const auto& t : list) {
        if (ctx.json) {
          PrintJsonObject({{"id", t.id}, {"user", t.user}, {"name", t.name}, {"created", Time(t.created_ms)},
                           {"state", t.revoked ? "revoked" : "live"}});
        } else {
          std::printf("%-14s %-24s %-16s %s %s\n", t.id.c_str(), t.user.c_str(), t.name.c_str(),
                      Time(t.created_ms).c_str(), t.revoked ? "revoked" : "live");
        }
      }
      return Status::OK();
    });
  });
}

}  // namespace sightline::cli
