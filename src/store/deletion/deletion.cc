#include "store/deletion/deletion.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include "store/coding.h"

namespace sightline::store {

namespace {
constexpr std::string_view kMagic = "SLDEL001";
}

const char* DeletionKindName(DeletionKind k) { return k == DeletionKind::kSession ? "session" : "user"; }

std::string Sha256Hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

void EncodeDeletions(const std::vector<DeletionRecord>& records, std::string* out) {
  out->assign(kMagic);
  PutVarint64(out, records.size());
  for (const auto& r : records) {
    PutVarint64(out, r.id);
    out->push_back(static_cast<char>(r.kind));
    PutLengthPrefixed(out, r.value_sha256);
    PutLengthPrefixed(out, r.project);
    PutLengthPrefixed(out, r.requested_by);
    PutSigned(out, r.requested_at_ns);
    PutSigned(out, r.completed_at_ns);
    PutVarint64(out, r.traces);
    PutVarint64(out, r.spans);
    PutVarint64(out, r.segments_rewritten);
    PutVarint64(out, r.keys.size());
    for (const auto& k : r.keys) {
      PutFixed64(out, k.hi);
      PutFixed64(out, k.lo);
    }
  }
  PutFixed64(out, XXH3_64bits(out->data(), out->size()));
}

Status DecodeDeletions(std::string_view in, std::vector<DeletionRecord>* out) {
  out->clear();
  auto bad = [](const char* what) { return Status::Corruption(std::string("DELETIONS: ") + what); };
  if (in.size() < kMagic.size() + 8 || in.substr(0, kMagic.size()) != kMagic) return bad("bad header");
  const uint64_t want = DecodeFixed64(in.data() + in.size() - 8);
  if (XXH3_64bits(in.data(), in.size() - 8) != want) return bad("checksum mismatch");
  std::string_view p = in.substr(kMagic.size(), in.size() - 8 - kMagic.size());
  uint64_t n = 0;
  if (!GetVarint64(&p, &n) || n > p.size()) return bad("bad count");
  for (uint64_t i = 0; i < n; ++i) {
    DeletionRecord r;
    std::string_view hash, project, by;
    uint64_t nkeys = 0;
    if (!GetVarint64(&p, &r.id) || p.empty()) return bad("truncated record");
    uint8_t kind = static_cast<uint8_t>(p[0]);
    p.remove_prefix(1);
    if (kind != 1 && kind != 2) return bad("unknown kind");
    r.kind = static_cast<DeletionKind>(kind);
    if (!GetLengthPrefixed(&p, &hash) || !GetLengthPrefixed(&p, &project) || !GetLengthPrefixed(&p, &by) ||
        !GetSigned(&p, &r.requested_at_ns) || !GetSigned(&p, &r.completed_at_ns) || !GetVarint64(&p, &r.traces) ||
        !GetVarint64(&p, &r.spans) || !GetVarint64(&p, &r.segments_rewritten) || !GetVarint64(&p, &nkeys))
      return bad("truncated record");
    if (nkeys > p.size() / 16) return bad("bad key count");
    r.value_sha256 = std::string(hash);
    r.project = std::string(project);
    r.requested_by = std::string(by);
    r.keys.resize(nkeys);
    for (auto& k : r.keys) {
      k.hi = DecodeFixed64(p.data());
      k.lo = DecodeFixed64(p.data() + 8);
      p.remove_prefix(16);
    }
    out->push_back(std::move(r));
  }
  if (!p.empty()) return bad("trailing bytes");
  return Status::OK();
}

Status ReadDeletions(Env* env, const std::string& dir, std::vector<DeletionRecord>* out) {
  out->clear();
  const std::string path = JoinPath(dir, kDeletionFile);
  if (!env->FileExists(path)) return Status::OK();
  SL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
  return DecodeDeletions(bytes, out).WithContext(path);
}

Status WriteDeletions(Env* env, const std::string& dir, const std::vector<DeletionRecord>& records) {
  std::string bytes;
  EncodeDeletions(records, &bytes);
  return WriteFileAtomically(env, JoinPath(dir, kDeletionFile), bytes);
}

}  // namespace sightline::store
