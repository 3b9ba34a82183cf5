#include "cli/cli.h"

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace sightline::cli {

int Main(int argc, char** argv) {
  CLI::App app{"Sightline: the flight recorder for AI agents"};
  app.require_subcommand(1);
  CommandContext ctx;
  if (const char* url = std::getenv("SIGHTLINE_URL"); url != nullptr && *url != '\0') ctx.server_url = url;
  app.add_option("--server", ctx.server_url, "Sightline server URL (env SIGHTLINE_URL)");
  app.add_flag("--json", ctx.json, "Machine-readable JSON output");
  if (const char* t = std::getenv("SIGHTLINE_TOKEN"); t != nullptr && *t != '\0') ctx.token = t;
  app.add_option("--token", ctx.token, "CLI token or API key for a server with auth on (env SIGHTLINE_TOKEN)");
  if (const char* ca = std::getenv("SIGHTLINE_CA_CERT"); ca != nullptr && *ca != '\0') ctx.ca_cert = ca;
  app.add_option("--ca-cert", ctx.ca_cert,
                 "PEM CA bundle to verify an https --server against, instead of the system's (env SIGHTLINE_CA_CERT)");
  if (const char* c = std::getenv("SIGHTLINE_CLIENT_CERT"); c != nullptr && *c != '\0') ctx.client_cert = c;
  if (const char* k = std::getenv("SIGHTLINE_CLIENT_KEY"); k != nullptr && *k != '\0') ctx.client_key = k;
  app.add_option("--client-cert", ctx.client_cert,
                 "PEM client certificate (chain) for a server that requires mutual TLS (env SIGHTLINE_CLIENT_CERT)");
  app.add_option("--client-key", ctx.client_key, "PEM private key of --client-cert (env SIGHTLINE_CLIENT_KEY)");

  RegisterServe(app, ctx);
  RegisterTrace(app, ctx);
  RegisterTraces(app, ctx);
  RegisterSession(app, ctx);
  RegisterTail(app, ctx);
  RegisterImport(app, ctx);
  RegisterExport(app, ctx);
  RegisterDemo(app, ctx);
  RegisterRetention(app, ctx);
  RegisterDelete(app, ctx);
  RegisterReprice(app, ctx);
  RegisterAudit(app, ctx);
  RegisterRedaction(app, ctx);
  RegisterAdmin(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return ctx.exit_code;
}

}  // namespace sightline::cli
