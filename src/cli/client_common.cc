#include "cli/client_common.h"

#include <chrono>
#include <cstdio>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "cli/json_util.h"
#include "tls/client_tls.h"

namespace sightline::cli {

void AddClientOptions(CLI::App* cmd, CommandContext& ctx) {
  // No envname here: cli.cc reads SIGHTLINE_URL into ctx first, so a flag (before or
  // after the subcommand) overrides it; CLI11 would apply the variable after the flag.
  cmd->add_option("--server", ctx.server_url, "Sightline server URL (env SIGHTLINE_URL, default http://127.0.0.1:4318)");
  cmd->add_flag("--json", ctx.json, "Machine-readable JSON output (the API's JSON)");
  cmd->add_option("--token", ctx.token, "CLI token or API key, when the server has auth on (env SIGHTLINE_TOKEN)");
  cmd->add_option("--ca-cert", ctx.ca_cert,
                  "PEM CA bundle to verify an https --server against, instead of the system's (env SIGHTLINE_CA_CERT)");
  cmd->add_option("--client-cert", ctx.client_cert,
                  "PEM client certificate (chain) for a server that requires mutual TLS (env SIGHTLINE_CLIENT_CERT)");
  cmd->add_option("--client-key", ctx.client_key, "PEM private key of --client-cert (env SIGHTLINE_CLIENT_KEY)");
}

Status ApplyTlsOptions(const CommandContext& ctx, const Url& url, HttpClientOptions* options) {
  options->ca_file = ctx.ca_cert;
  options->cert_file = ctx.client_cert;
  options->key_file = ctx.client_key;
  if (ctx.client_cert.empty() != ctx.client_key.empty())
    return Status::InvalidArgument(ctx.client_cert.empty() ? "--client-key needs --client-cert"
                                                           : "--client-cert needs --client-key");
  if (!url.tls && !ctx.client_cert.empty())
    return Status::InvalidArgument("--client-cert needs an https:// --server");
  // Files that cannot be used are a usage error, found before any request.
  if (url.tls && (!ctx.ca_cert.empty() || !ctx.client_cert.empty())) {
    auto probe = tls::MakeClientContext(ctx.ca_cert, ctx.client_cert, ctx.client_key);
    if (!probe.ok()) return probe.status();
  }
  return Status::OK();
}

Result<std::unique_ptr<HttpClient>> MakeClient(const CommandContext& ctx) {
  auto url = ParseUrl(ctx.server_url);
  if (!url.ok()) return url.status();
  HttpClientOptions options;
  // A CLI token (slt_...) reads what its user may; an API key (sk-lf-...) reads and
  // writes its project (docs/auth.md).
  if (!ctx.token.empty()) options.default_headers.emplace_back("Authorization", "Bearer " + ctx.token);
  SL_RETURN_IF_ERROR(ApplyTlsOptions(ctx, *url, &options));
  return std::make_unique<HttpClient>(std::move(url).value(), options);
}

Status GetJson(HttpClient& client, const std::string& target, std::string_view what, rapidjson::Document* doc,
               const std::vector<std::pair<std::string, std::string>>& headers) {
  auto r = headers.empty() ? client.Get(target) : client.Request("GET", target, "", headers);
  if (!r.ok()) return r.status();
  const HttpResponse& res = *r;
  if (res.status < 200 || res.status >= 300) {
    std::string msg = std::string(what) + ": " + ErrorMessageFromResponse(res) + " (HTTP " +
                      std::to_string(res.status) + " from " + client.base().ToString() + ")";
    if (res.status == 404) return Status::NotFound(msg);
    if (res.status == 401)
      return Status::Unauthenticated(msg + "; set SIGHTLINE_TOKEN (or --token) to a token from `sightline admin tokens create`");
    if (res.status == 403) return Status::PermissionDenied(msg);
    if (res.status == 400) return Status(StatusCode::kInvalidArgument, msg);
    if (res.status == 429 || res.status == 503) return Status::Unavailable(msg);
    if (res.status == 401) return Status::Unauthenticated(msg);
    if (res.status == 403) return Status::PermissionDenied(msg);
    return Status::Internal(msg);
  }
  Status st = ParseJson(res.body, doc, std::string(what) + " answer from " + client.base().ToString());
  if (!st.ok()) return Status::Internal(st.message());
  return Status::OK();
}

void ReportFailure(CommandContext& ctx, std::string_view cmd, const Status& status) {
  std::fprintf(stderr, "sightline %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(), status.message().c_str());
  ctx.exit_code = 1;
}

void ReportUsageError(CommandContext& ctx, std::string_view cmd, const Status& status) {
  std::fprintf(stderr, "sightline %.*s: %s\nRun with --help for more information.\n", static_cast<int>(cmd.size()),
               cmd.data(), status.message().c_str());
  ctx.exit_code = 2;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PrettyJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace sightline::cli
