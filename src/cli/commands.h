// The subcommands of `sightline`, one file each. cli.cc registers them all.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace sightline::cli {

// Options shared by every subcommand, and the exit status the chosen one sets.
struct CommandContext {
  std::string server_url = "http://127.0.0.1:4318";  // --server, env SIGHTLINE_URL
  bool json = false;                                  // --json: machine output
  std::string token;  // --token, env SIGHTLINE_TOKEN: sent as Authorization: Bearer
  std::string ca_cert;  // --ca-cert, env SIGHTLINE_CA_CERT: the CA an https server's certificate chains to
  // --client-cert/--client-key, env SIGHTLINE_CLIENT_CERT/_KEY: presented for mutual TLS
  std::string client_cert;
  std::string client_key;
  int exit_code = 0;                                  // 0 success, 1 failure, 2 usage
};

// Each adds its subcommand to app; the subcommand's callback runs it and sets
// ctx.exit_code.
void RegisterServe(CLI::App& app, CommandContext& ctx);    // serve.cc
void RegisterTrace(CLI::App& app, CommandContext& ctx);    // trace.cc
void RegisterTraces(CLI::App& app, CommandContext& ctx);   // traces.cc
void RegisterSession(CLI::App& app, CommandContext& ctx);  // session.cc
void RegisterTail(CLI::App& app, CommandContext& ctx);     // tail.cc
void RegisterImport(CLI::App& app, CommandContext& ctx);   // import.cc
void RegisterExport(CLI::App& app, CommandContext& ctx);   // export.cc
void RegisterDemo(CLI::App& app, CommandContext& ctx);     // demo.cc
void RegisterRetention(CLI::App& app, CommandContext& ctx);  // retention.cc
void RegisterDelete(CLI::App& app, CommandContext& ctx);     // delete.cc
void RegisterReprice(CLI::App& app, CommandContext& ctx);    // reprice.cc
void RegisterAudit(CLI::App& app, CommandContext& ctx);      // audit.cc
void RegisterRedaction(CLI::App& app, CommandContext& ctx);  // redaction.cc
void RegisterAdmin(CLI::App& app, CommandContext& ctx);      // admin.cc

// Adds --server (env SIGHTLINE_URL) and --json to a client subcommand, bound to ctx,
// so they work after the subcommand name as well as before it (client_common.cc).
void AddClientOptions(CLI::App* cmd, CommandContext& ctx);

}  // namespace sightline::cli
