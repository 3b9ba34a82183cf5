#include "audit/audit_reader.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include <rapidjson/document.h>

#include "audit/signing.h"

namespace sightline::audit {
namespace {

constexpr std::string_view kPrefix = "audit-";
constexpr std::string_view kSuffix = ".log";

}  // namespace

std::string AuditFileName(uint64_t first_seq) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "audit-%020" PRIu64 ".log", first_seq);
  return buf;
}

bool ParseAuditFileName(const std::string& name, uint64_t* first_seq) {
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return false;
  if (name.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  if (name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = kPrefix.size(); i < kPrefix.size() + 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *first_seq = v;
  return true;
}

Result<std::vector<std::string>> ListAuditFiles(Env* env, const std::string& dir) {
  if (!env->FileExists(dir)) return std::vector<std::string>{};
  SL_ASSIGN_OR_RETURN(auto children, env->GetChildren(dir));
  std::vector<std::pair<uint64_t, std::string>> files;
  for (auto& c : children) {
    uint64_t s;
    if (ParseAuditFileName(c, &s)) files.emplace_back(s, c);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) out.push_back(std::move(f.second));
  return out;
}

Result<ChainPoint> ReadChainPoint(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  SL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(env, path));
  ChainPoint p;
  size_t nl = text.find('\n');
  if (nl == std::string::npos || nl > 256) return Status::Corruption(path + " does not parse");
  const std::string first = text.substr(0, nl);
  char hash[65] = {0};
  char file[128] = {0};
  unsigned long long seq = 0;
  int n = std::sscanf(first.c_str(), "%llu %64s %127s", &seq, hash, file);
  if (n < 2 || std::string_view(hash).size() != 64) return Status::Corruption(path + " does not parse");
  p.seq = seq;
  p.hash = hash;
  if (n == 3) p.file = file;
  // The optional signature line.
  std::string rest = text.substr(nl + 1);
  if (size_t end = rest.find('\n'); end != std::string::npos) rest.resize(end);
  if (rest.size() > 512) return Status::Corruption(path + " does not parse");
  p.signature = rest;
  return p;
}

std::string FormatChainPoint(const ChainPoint& p) {
  std::string s = std::to_string(p.seq) + " " + p.hash;
  if (!p.file.empty()) s += " " + p.file;
  return s + "\n";
}

std::vector<std::string_view> SplitAuditLines(std::string_view data, bool* torn) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string_view::npos) break;
    lines.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  *torn = start < data.size();
  return lines;
}

Result<VerifyReport> VerifyAuditDir(Env* env, const std::string& dir, const VerifyOptions& options) {
  VerifyReport r;
  SL_ASSIGN_OR_RETURN(r.files, ListAuditFiles(env, dir));
  uint64_t expect_seq = 1;
  std::string expect_prev(kZeroHash);
  auto anchor = ReadChainPoint(env, JoinPath(dir, "ANCHOR"));
  if (anchor.ok()) {
    r.anchored = true;
    r.anchor = *anchor;
    expect_seq = anchor->seq + 1;
    expect_prev = anchor->hash;
  } else if (anchor.status().code() != StatusCode::kNotFound) {
    r.ok = false;
    r.bad_file = "ANCHOR";
    r.bad_seq = 0;
    r.problem = "the ANCHOR file (hash of the last record retention dropped) is damaged";
    return r;
  }
  auto fail = [&r](const std::string& file, uint64_t seq, std::string problem) {
    r.ok = false;
    r.bad_file = file;
    r.bad_seq = seq;
    r.problem = std::move(problem);
  };
  bool started = false;  // a record past the anchor was seen
  // The witness's record, when the walk passes it.
  std::string witnessed_hash, witnessed_file;
  bool head_seen = false;
  // Anchors named by audit.retention records in the chain: (seq, hash), oldest first.
  std::vector<std::pair<uint64_t, std::string>> retention_anchors;
  for (size_t fi = 0; fi < r.files.size(); ++fi) {
    const std::string& name = r.files[fi];
    uint64_t file_first = 0;
    ParseAuditFileName(name, &file_first);
    SL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, JoinPath(dir, name)));
    bool torn = false;
    auto lines = SplitAuditLines(data, &torn);
    if (lines.empty() && !torn && fi + 1 < r.files.size()) {
      fail(name, file_first, "the file is empty (its records were removed)");
      return r;
    }
    for (size_t li = 0; li < lines.size(); ++li) {
      AuditRecord rec;
      Status st = ParseAuditLine(lines[li], &rec);
      if (!st.ok()) {
        // Name the seq it claims when it is plausible, else the one expected here.
        uint64_t seq = rec.seq != 0 && rec.seq >= expect_seq && rec.seq < expect_seq + 1000000 ? rec.seq : expect_seq;
        if (!started && r.anchored && rec.seq != 0 && rec.seq <= r.anchor.seq) seq = rec.seq;
        fail(name, seq, "record damaged or edited: " + st.message() + " (line " + std::to_string(li + 1) + ")");
        return r;
      }
      if (li == 0 && rec.seq != file_first) {
        fail(name, rec.seq,
             "the file's first record is seq " + std::to_string(rec.seq) + " but its name says " +
                 std::to_string(file_first));
        return r;
      }
      if (!started && r.anchored && rec.seq <= r.anchor.seq) continue;  // retention is removing it
      if (rec.seq != expect_seq) {
        fail(name, rec.seq,
             rec.seq > expect_seq
                 ? "records " + std::to_string(expect_seq) + (rec.seq - 1 > expect_seq ? ".." + std::to_string(rec.seq - 1) : "") +
                       " are missing before this one (removed)"
                 : "out of order: seq " + std::to_string(rec.seq) + " where " + std::to_string(expect_seq) +
                       " was expected (reordered or duplicated)");
        return r;
      }
      if (rec.prev != expect_prev) {
        fail(name, rec.seq,
             started || r.anchored ? "its prev does not match the hash of the record before (the chain is broken)"
                                   : "the first record's prev is not the zero hash");
        return r;
      }
      if (!started) r.first_seq = rec.seq;
      started = true;
      if (rec.action == "audit.retention" && rec.kind == Kind::kSystem) {
        rapidjson::Document d;
        d.Parse(rec.details_json.data(), rec.details_json.size());
        if (!d.HasParseError() && d.IsObject() && d.HasMember("anchor_seq") && d["anchor_seq"].IsUint64() &&
            d.HasMember("anchor_hash") && d["anchor_hash"].IsString())
          retention_anchors.emplace_back(d["anchor_seq"].GetUint64(), d["anchor_hash"].GetString());
      }
      if (options.expect_seq != 0 && rec.seq == options.expect_seq) {
        witnessed_hash = rec.hash;
        witnessed_file = name;
      }
      if (!options.expect_head.empty() && rec.hash == options.expect_head) head_seen = true;
      ++r.records;
      r.last_seq = rec.seq;
      r.head_hash = rec.hash;
      expect_seq = rec.seq + 1;
      expect_prev = rec.hash;
    }
    if (torn) {
      if (fi + 1 < r.files.size()) {
        fail(name, expect_seq, "a record is cut off in the middle of the trail");
        return r;
      }
      r.warnings.push_back(name + ": the last " + std::to_string(data.size() - (data.rfind('\n') == std::string::npos ? 0 : data.rfind('\n') + 1)) +
                           " bytes are an incomplete record (being written, or torn by a crash; the server drops them when it opens the trail)");
    }
  }
  // ANCHOR against the chain: retention appends its record (naming the anchor) before
  // it writes ANCHOR, so some audit.retention record must name it. A newer one than
  // ANCHOR is a retention cut short by a crash (the server repeats it).
  if (r.anchored) {
    bool confirmed = false;
    for (const auto& [seq, hash] : retention_anchors) confirmed = confirmed || (seq == r.anchor.seq && hash == r.anchor.hash);
    if (!confirmed) {
      fail("ANCHOR", r.anchor.seq,
           "ANCHOR (seq " + std::to_string(r.anchor.seq) +
               ") is not confirmed by any audit.retention record in the trail (ANCHOR or the records were changed)");
      return r;
    }
    if (!retention_anchors.empty() && retention_anchors.back().first != r.anchor.seq)
      r.warnings.push_back("the last audit.retention record names anchor seq " +
                           std::to_string(retention_anchors.back().first) + " but ANCHOR says " +
                           std::to_string(r.anchor.seq) + " (a retention run was cut short; the server repeats it)");
  }
  auto head = ReadChainPoint(env, JoinPath(dir, "HEAD"));
  if (!options.public_key.empty()) {
    // Signed mode: HEAD and ANCHOR must be signed by the given key, and HEAD must
    // cover the whole trail.
    if (r.anchored) {
      Status s = CheckSignatureLine(r.anchor.signature, AnchorMessage(r.anchor.seq, r.anchor.hash, r.anchor.file),
                                    options.public_key);
      if (!s.ok()) {
        fail("ANCHOR", r.anchor.seq, "ANCHOR's signature: " + s.message());
        return r;
      }
    }
    if (!head.ok()) {
      fail("HEAD", r.last_seq, head.status().code() == StatusCode::kNotFound ? "there is no HEAD to check the signature of"
                                                                             : "HEAD is unreadable");
      return r;
    }
    r.head_signed = !head->signature.empty();
    Status s = CheckSignatureLine(head->signature, HeadMessage(head->seq, head->hash), options.public_key);
    if (!s.ok()) {
      fail("HEAD", head->seq, "HEAD's signature: " + s.message());
      return r;
    }
    if (head->seq < r.last_seq) {
      fail(r.files.empty() ? std::string("HEAD") : r.files.back(), head->seq + 1,
           "records " + std::to_string(head->seq + 1) + ".." + std::to_string(r.last_seq) +
               " come after the signed HEAD (seq " + std::to_string(head->seq) +
               "): no signature covers them (added by hand, or the server stopped before re-signing; it re-signs "
               "and records that when it opens the trail)");
      return r;
    }
    r.signature_checked = true;
  } else if (head.ok()) {
    r.head_signed = !head->signature.empty();
  }
  if (head.ok()) {
    if (head->seq > r.last_seq) {
      fail(r.files.empty() ? std::string("HEAD") : r.files.back(), r.last_seq + 1,
           "records " + std::to_string(r.last_seq + 1) + ".." + std::to_string(head->seq) +
               " are missing at the end (HEAD says the trail reached seq " + std::to_string(head->seq) + ")");
      return r;
    }
    if (head->seq == r.last_seq && head->seq != 0 && head->hash != r.head_hash) {
      fail(r.files.back(), r.last_seq, "the last record's hash differs from the one HEAD recorded (rewritten)");
      return r;
    }
    // HEAD behind the end: the writer crashed between a batch and HEAD, or a reader
    // raced the writer. Not an error.
  } else if (head.status().code() != StatusCode::kNotFound) {
    r.warnings.push_back("HEAD is unreadable (a crash while it was rewritten); the end of the trail is not checked");
  } else if (r.records > 0) {
    r.warnings.push_back("no HEAD file; the end of the trail is not checked");
  }
  // The outside witness: what the directory cannot vouch for itself, since an older
  // copy of it (HEAD and signature included) is valid on its own.
  if (options.expect_seq != 0 || !options.expect_head.empty()) {
    const std::string last_file = r.files.empty() ? std::string("HEAD") : r.files.back();
    if (options.expect_seq != 0 && r.last_seq < options.expect_seq) {
      fail(last_file, options.expect_seq,
           "the trail ends at seq " + std::to_string(r.last_seq) + " but the witness saw seq " +
               std::to_string(options.expect_seq) + ": records " + std::to_string(r.last_seq + 1) + ".." +
               std::to_string(options.expect_seq) +
               " are gone (the directory was rolled back to an older state, or its end was removed)");
      return r;
    }
    if (!options.expect_head.empty()) {
      const bool dropped = r.anchored && options.expect_seq != 0 && options.expect_seq <= r.anchor.seq;
      if (dropped && options.expect_seq == r.anchor.seq) {
        if (r.anchor.hash != options.expect_head) {
          fail("ANCHOR", r.anchor.seq,
               "ANCHOR's hash for seq " + std::to_string(r.anchor.seq) + " is not the witness's (the trail was rewritten)");
          return r;
        }
      } else if (dropped) {
        r.warnings.push_back("the witnessed seq " + std::to_string(options.expect_seq) +
                             " was dropped by retention: only that the trail reaches it was checked, not its hash");
      } else if (options.expect_seq != 0) {
        if (witnessed_hash != options.expect_head) {
          fail(witnessed_file, options.expect_seq,
               "seq " + std::to_string(options.expect_seq) +
                   " is not the record the witness saw (its hash differs): the trail was rolled back and written "
                   "again, or rewritten");
          return r;
        }
      } else if (!head_seen && !(r.anchored && r.anchor.hash == options.expect_head)) {
        fail(last_file, r.last_seq,
             "no record has the witness's hash: the trail was rolled back to before it, or rewritten");
        return r;
      }
    }
    r.witness_checked = true;
  }
  return r;
}

Status ScanAuditRecords(Env* env, const std::string& dir, uint64_t after_seq,
                        const std::function<bool(const AuditRecord&)>& fn) {
  SL_ASSIGN_OR_RETURN(auto files, ListAuditFiles(env, dir));
  for (size_t fi = 0; fi < files.size(); ++fi) {
    uint64_t next_first = 0;
    if (fi + 1 < files.size() && ParseAuditFileName(files[fi + 1], &next_first) && next_first <= after_seq + 1)
      continue;  // every record of this file is at or before the cursor
    auto data = ReadFileToString(env, JoinPath(dir, files[fi]));
    if (!data.ok()) {
      if (data.status().code() == StatusCode::kNotFound) continue;  // retention removed it meanwhile
      return data.status();
    }
    bool torn = false;
    for (std::string_view line : SplitAuditLines(*data, &torn)) {
      AuditRecord rec;
      if (!ParseAuditLine(line, &rec).ok() || rec.seq <= after_seq) continue;
      if (!fn(rec)) return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace sightline::audit
