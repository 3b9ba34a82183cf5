#include "audit/audit_record.h"

#include <openssl/evp.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/hex.h"
#include "common/time_util.h"

namespace sightline::audit {
namespace {

constexpr std::string_view kHashKey = ",\"hash\":\"";

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// (HasMember and operator[], not FindMember: comparing rapidjson's member iterators
// is ambiguous under C++20's reversed operators, which clang warns about.)
const char* StringField(const rapidjson::Value& o, const char* key) {
  if (!o.HasMember(key) || !o[key].IsString()) return nullptr;
  return o[key].GetString();
}

}  // namespace

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kAdmin: return "admin";
    case Kind::kRead: return "read";
    case Kind::kSideEffect: return "side_effect";
    case Kind::kSystem: return "system";
  }
  return "admin";
}

bool ParseKind(std::string_view s, Kind* out) {
  for (Kind k : {Kind::kAdmin, Kind::kRead, Kind::kSideEffect, Kind::kSystem}) {
    if (KindName(k) == s) {
      *out = k;
      return true;
    }
  }
  return false;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32) return "";
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

Result<std::string> EncodeAuditLine(AuditRecord* rec) {
  rapidjson::Document details;
  const std::string& dj = rec->details_json.empty() ? std::string("{}") : rec->details_json;
  details.Parse(dj.data(), dj.size());
  if (details.HasParseError() || !details.IsObject())
    return Status::InvalidArgument("audit record details must be a JSON object");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("v");
  w.Int(1);
  w.Key("seq");
  w.Uint64(rec->seq);
  w.Key("time_ns");
  w.Int64(rec->time_ns);
  w.Key("time");
  str(FormatRfc3339(rec->time_ns));
  w.Key("kind");
  str(KindName(rec->kind));
  w.Key("principal");
  str(rec->actor.principal);
  w.Key("remote");
  str(rec->actor.remote);
  w.Key("action");
  str(rec->action);
  w.Key("target");
  str(rec->target);
  w.Key("outcome");
  str(rec->outcome);
  w.Key("details");
  details.Accept(w);
  w.Key("prev");
  str(rec->prev);
  w.EndObject();
  std::string body(buf.GetString(), buf.GetSize());
  rec->hash = Sha256Hex(body);
  std::string line = body.substr(0, body.size() - 1);
  line += kHashKey;
  line += rec->hash;
  line += "\"}\n";
  if (line.size() > kMaxLineBytes) return Status::InvalidArgument("audit record is over 1 MiB");
  return line;
}

Status ParseAuditLine(std::string_view line, AuditRecord* out) {
  out->line = std::string(line);
  if (line.size() > kMaxLineBytes) return Status::Corruption("record is over 1 MiB");
  // ...,"hash":"<64 hex>"}
  constexpr size_t kTail = 9 + 64 + 2;
  if (line.size() < kTail + 2 || line.substr(line.size() - 2) != "\"}" ||
      line.substr(line.size() - kTail, kHashKey.size()) != kHashKey)
    return Status::Corruption("not an audit record (no hash at the end)");
  std::string_view hash = line.substr(line.size() - 66, 64);
  std::string body(line.substr(0, line.size() - kTail));
  body += '}';
  rapidjson::Document d;
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return Status::Corruption("not an audit record (not a JSON object)");
  const bool has_seq = d.HasMember("seq") && d["seq"].IsUint64();
  if (has_seq) out->seq = d["seq"].GetUint64();
  if (!d.HasMember("v") || !d["v"].IsInt() || d["v"].GetInt() != 1) return Status::Corruption("unknown record version");
  if (!has_seq || out->seq == 0) return Status::Corruption("no sequence number");
  if (!d.HasMember("time_ns") || !d["time_ns"].IsInt64()) return Status::Corruption("no time_ns");
  out->time_ns = d["time_ns"].GetInt64();
  const char* kind = StringField(d, "kind");
  const char* principal = StringField(d, "principal");
  const char* remote = StringField(d, "remote");
  const char* action = StringField(d, "action");
  const char* target = StringField(d, "target");
  const char* outcome = StringField(d, "outcome");
  const char* prev = StringField(d, "prev");
  if (!kind || !principal || !remote || !action || !target || !outcome || !prev)
    return Status::Corruption("a field is missing");
  if (!ParseKind(kind, &out->kind)) return Status::Corruption("unknown kind");
  if (!d.HasMember("details") || !d["details"].IsObject()) return Status::Corruption("no details object");
  rapidjson::StringBuffer db;
  rapidjson::Writer<rapidjson::StringBuffer> dw(db);
  d["details"].Accept(dw);
  out->details_json.assign(db.GetString(), db.GetSize());
  out->actor.principal = principal;
  out->actor.remote = remote;
  out->action = action;
  out->target = target;
  out->outcome = outcome;
  out->prev = prev;
  out->hash = std::string(hash);
  if (!IsLowerHex64(out->prev)) return Status::Corruption("prev is not a SHA-256");
  if (!IsLowerHex64(hash)) return Status::Corruption("hash is not a SHA-256");
  if (Sha256Hex(body) != hash) return Status::Corruption("the record's hash does not match its content (edited)");
  return Status::OK();
}

}  // namespace sightline::audit
