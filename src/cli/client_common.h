// What the client subcommands share: connecting to the server named by --server,
// fetching JSON from the API with errors that name the URL or id, and reporting a
// failure as one line on stderr with the right exit status.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "cli/commands.h"
#include "cli/http_client.h"
#include "common/status.h"

namespace sightline::cli {

// A client for ctx.server_url; InvalidArgument (usage) when the URL is malformed.
Result<std::unique_ptr<HttpClient>> MakeClient(const CommandContext& ctx);

// The TLS files of ctx (--ca-cert, --client-cert, --client-key) into options, checked
// before any request: InvalidArgument (usage) naming the file that cannot be used, for
// one of the client pair without the other, or a client certificate for http://.
Status ApplyTlsOptions(const CommandContext& ctx, const Url& url, HttpClientOptions* options);

// GETs target and parses the JSON answer into *doc. A non-2xx answer becomes a Status
// (404 NotFound, 400 InvalidArgument, 429/503 Unavailable, else Internal) whose
// message names `what` (e.g. "trace 4bf9…") and the server's own message.
Status GetJson(HttpClient& client, const std::string& target, std::string_view what, rapidjson::Document* doc,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
// Sent with the reads of `sightline export`, so the server's audit trail records them
// as exports (docs/audit.md).
inline const std::vector<std::pair<std::string, std::string>> kExportHeaders = {{"x-sightline-purpose", "export"}};

// Prints "sightline <cmd>: <message>" to stderr and sets ctx.exit_code to 1.
void ReportFailure(CommandContext& ctx, std::string_view cmd, const Status& status);
// The same for a usage error (bad flag value, malformed --server): exit status 2.
void ReportUsageError(CommandContext& ctx, std::string_view cmd, const Status& status);

// Unix nanoseconds now (wall clock).
int64_t NowNs();

// Pretty JSON for --json output of an answer.
std::string PrettyJson(const rapidjson::Value& v);

}  // namespace sightline::cli
