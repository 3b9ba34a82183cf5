// `sightline audit verify` and `sightline audit export`: read the audit trail's files
// directly (DATA/audit/, docs/audit.md); no server needed, safe beside a running one.
//
// verify: checks every record's hash, the sequence and the chain, the files against
// their names, the ANCHOR left by retention and the HEAD left by the writer; prints
// the first bad record (file and seq) and exits 1, or the head hash and exits 0.
// export: the records as stored (JSON Lines), optionally by time.
// keygen: a new Ed25519 signing key for the server's [audit] signing_key (written
// 0600, never over an existing file); prints the public key verify --public-key takes.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/audit_reader.h"
#include "audit/signing.h"
#include "cli/commands.h"
#include "common/time_util.h"

namespace sightline::cli {
namespace {

std::string DataDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* d = std::getenv("SIGHTLINE_DATA"); d != nullptr && *d != '\0') return d;
  return "./sightline-data";
}

int RunVerify(const std::string& data, const std::string& public_key, uint64_t expect_seq,
              const std::string& expect_head, bool json) {
  const std::string dir = (std::filesystem::path(data) / "audit").string();
  audit::VerifyOptions vo;
  vo.expect_seq = expect_seq;
  if (!expect_head.empty()) {
    std::string h;
    for (char c : expect_head) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool hex = h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) {
      std::fprintf(stderr, "sightline audit verify: --expect-head: expected the 64 hex digits a verify printed as head\n");
      return 2;
    }
    vo.expect_head = h;
  }
  if (!public_key.empty()) {
    auto key = audit::LoadPublicKey(public_key);
    if (!key.ok()) {
      std::fprintf(stderr, "sightline audit verify: %s\n", key.status().message().c_str());
      return 2;
    }
    vo.public_key = *key;
  }
  auto r = audit::VerifyAuditDir(Env::Default(), dir, vo);
  // A running server writes a batch, then re-signs HEAD: a reader in between sees
  // records after the signed HEAD. Look again before calling that a failure.
  for (int attempt = 0; attempt < 5 && r.ok() && !r->ok && !vo.public_key.empty() &&
                        r->problem.find("come after the signed HEAD") != std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    r = audit::VerifyAuditDir(Env::Default(), dir, vo);
  }
  if (!r.ok()) {
    std::fprintf(stderr, "sightline audit verify: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (json) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("ok");
    w.Bool(r->ok);
    w.Key("records");
    w.Uint64(r->records);
    w.Key("first_seq");
    w.Uint64(r->first_seq);
    w.Key("last_seq");
    w.Uint64(r->last_seq);
    w.Key("head_hash");
    w.String(r->head_hash.c_str());
    w.Key("files");
    w.Uint64(r->files.size());
    w.Key("head_signed");
    w.Bool(r->head_signed);
    w.Key("signature_checked");
    w.Bool(r->signature_checked);
    w.Key("witness_checked");
    w.Bool(r->witness_checked);
    if (r->anchored) {
      w.Key("anchor_seq");
      w.Uint64(r->anchor.seq);
      w.Key("anchor_hash");
      w.String(r->anchor.hash.c_str());
    }
    if (!r->ok) {
      w.Key("bad_file");
      w.String(r->bad_file.c_str());
      w.Key("bad_seq");
      w.Uint64(r->bad_seq);
      w.Key("problem");
      w.String(r->problem.c_str());
    }
    w.Key("warnings");
    w.StartArray();
    for (const auto& x : r->warnings) w.String(x.c_str());
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", b.GetString());
  } else {
    for (const auto& x : r->warnings) std::fprintf(stderr, "warning: %s\n", x.c_str());
    if (!r->ok) {
      std::printf("audit trail in %s: FAILED at %s seq %llu: %s\n", dir.c_str(), r->bad_file.c_str(),
                  static_cast<unsigned long long>(r->bad_seq), r->problem.c_str());
    } else if (r->records == 0) {
      std::printf("audit trail in %s: no records\n", dir.c_str());
    } else {
      std::printf("audit trail in %s: OK, %llu records (seq %llu..%llu) in %zu file(s)%s\nhead %s\n", dir.c_str(),
                  static_cast<unsigned long long>(r->records), static_cast<unsigned long long>(r->first_seq),
                  static_cast<unsigned long long>(r->last_seq), r->files.size(),
                  r->anchored ? (", after retention's anchor at seq " + std::to_string(r->anchor.seq)).c_str() : "",
                  r->head_hash.c_str());
      if (r->signature_checked)
        std::printf("HEAD%s signed by the given key\n", r->anchored ? " and ANCHOR" : "");
      else if (r->head_signed)
        std::printf("HEAD is signed (not checked: pass --public-key)\n");
      if (r->witness_checked)
        std::printf("the witness (seq %llu%s) is in the trail\n", static_cast<unsigned long long>(expect_seq),
                    expect_head.empty() ? "" : " and its hash");
      // What to keep outside this machine, to catch a rollback of the whole directory.
      std::printf("witness: --expect-seq %llu --expect-head %s\n", static_cast<unsigned long long>(r->last_seq),
                  r->head_hash.c_str());
    }
  }
  return r->ok ? 0 : 1;
}

int RunExport(const std::string& data, const std::string& from, const std::string& to, const std::string& format) {
  if (format != "jsonl") {
    std::fprintf(stderr, "sightline audit export: --format: only jsonl\n");
    return 2;
  }
  int64_t from_ns = INT64_MIN, to_ns = INT64_MAX;
  if (!from.empty()) {
    auto t = ParseTimeParam(from);
    if (!t) {
      std::fprintf(stderr, "sightline audit export: --from: expected RFC 3339 or Unix milliseconds\n");
      return 2;
    }
    from_ns = *t;
  }
  if (!to.empty()) {
    auto t = ParseTimeParam(to);
    if (!t) {
      std::fprintf(stderr, "sightline audit export: --to: expected RFC 3339 or Unix milliseconds\n");
      return 2;
    }
    to_ns = *t;
  }
  const std::string dir = (std::filesystem::path(data) / "audit").string();
  Status st = audit::ScanAuditRecords(Env::Default(), dir, 0, [&](const audit::AuditRecord& r) {
    if (r.time_ns >= from_ns && r.time_ns < to_ns) std::printf("%s\n", r.line.c_str());
    return true;
  });
  if (!st.ok()) {
    std::fprintf(stderr, "sightline audit export: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterAudit(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("audit", "Verify or export the audit trail (reads DATA/audit directly)");
  cmd->require_subcommand(1);
  auto data = std::make_shared<std::string>();
  auto* verify = cmd->add_subcommand("verify", "Check the hash chain; name the first edited, removed or reordered record");
  auto public_key = std::make_shared<std::string>();
  verify->add_option("--data", *data, "Data directory (env SIGHTLINE_DATA; default ./sightline-data)");
  verify->add_option("--public-key", *public_key,
                     "Also check that HEAD and ANCHOR are signed by this key (64 hex digits or a file; "
                     "env SIGHTLINE_AUDIT_PUBLIC_KEY)");
  auto expect_seq = std::make_shared<uint64_t>(0);
  auto expect_head = std::make_shared<std::string>();
  verify->add_option("--expect-seq", *expect_seq,
                     "A witness kept elsewhere: the trail must still reach this seq (catches a rollback of the whole "
                     "directory, docs/audit.md)")
      ->check(CLI::PositiveNumber);
  verify->add_option("--expect-head", *expect_head,
                     "A witness kept elsewhere: the hash of the record at --expect-seq (or of some record), as a "
                     "verify printed it");
  verify->add_flag("--json", ctx.json, "Machine-readable JSON output");
  verify->callback([&ctx, data, public_key, expect_seq, expect_head]() {
    std::string key = *public_key;
    if (key.empty())
      if (const char* k = std::getenv("SIGHTLINE_AUDIT_PUBLIC_KEY"); k != nullptr) key = k;
    ctx.exit_code = RunVerify(DataDir(*data), key, *expect_seq, *expect_head, ctx.json);
  });

  auto out = std::make_shared<std::string>();
  auto* keygen = cmd->add_subcommand(
      "keygen", "Create an Ed25519 key for signing the audit trail's HEAD (keep it outside the data directory)");
  keygen->add_option("--out", *out, "Where to write the private key (created 0600; never overwritten)")->required();
  keygen->add_flag("--json", ctx.json, "Machine-readable JSON output");
  keygen->callback([&ctx, out]() {
    auto pub = audit::AuditSigner::Generate(*out);
    if (!pub.ok()) {
      std::fprintf(stderr, "sightline audit keygen: %s\n", pub.status().message().c_str());
      ctx.exit_code = pub.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
      return;
    }
    if (ctx.json) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      w.StartObject();
      w.Key("private_key_file");
      w.String(out->c_str());
      w.Key("public_key");
      w.String(pub->c_str());
      w.EndObject();
      std::printf("%s\n", b.GetString());
    } else {
      std::printf("private key  %s (0600; give it to the server: [audit] signing_key, --audit-signing-key)\n"
                  "public key   %s\n\nVerify with: sightline audit verify --public-key %s\n",
                  out->c_str(), pub->c_str(), pub->c_str());
    }
  });

  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("jsonl");
  auto* exp = cmd->add_subcommand("export", "Print the audit records as stored, one JSON object a line");
  exp->add_option("--data", *data, "Data directory (env SIGHTLINE_DATA; default ./sightline-data)");
  exp->add_option("--from", *from, "Records at or after (RFC 3339 or Unix ms)");
  exp->add_option("--to", *to, "Records before (RFC 3339 or Unix ms)");
  exp->add_option("--format", *format, "jsonl (the only format)");
  exp->callback([&ctx, data, from, to, format]() { ctx.exit_code = RunExport(DataDir(*data), *from, *to, *format); });
}

}  // namespace sightline::cli
