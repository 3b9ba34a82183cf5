#include "store/sampling/sampling_state.h"

#include <xxhash.h>

#include <algorithm>

#include "store/coding.h"

namespace sightline::store::sampling {

namespace {
constexpr std::string_view kMagic = "SLSMP001";
}

void EncodeSamplingState(const SamplingState& s, std::string* out) {
  out->assign(kMagic);
  PutSigned(out, s.decided_until_ns);
  PutVarint64(out, s.counts.size());
  for (const auto& [k, n] : s.counts) {
    PutLengthPrefixed(out, std::get<0>(k));
    out->push_back(std::get<1>(k) ? '\1' : '\0');
    out->push_back(static_cast<char>(std::get<2>(k)));
    PutVarint64(out, static_cast<uint64_t>(std::max<int64_t>(0, n)));
  }
  // Ids in order: the same state always encodes to the same bytes.
  std::vector<const std::pair<const TraceKey, PendingDrop>*> drops;
  drops.reserve(s.drops.size());
  for (const auto& d : s.drops) drops.push_back(&d);
  std::sort(drops.begin(), drops.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  PutVarint64(out, drops.size());
  for (const auto* d : drops) {
    PutFixed64(out, d->first.hi);
    PutFixed64(out, d->first.lo);
    PutVarint64(out, d->second.wal);
    PutVarint64(out, d->second.files.size());
    for (uint64_t f : d->second.files) PutVarint64(out, f);
  }
  PutFixed64(out, XXH3_64bits(out->data(), out->size()));
}

Status DecodeSamplingState(std::string_view in, SamplingState* out) {
  *out = SamplingState();
  auto bad = [](const char* what) { return Status::Corruption(std::string("SAMPLING: ") + what); };
  if (in.size() < kMagic.size() + 8 || in.substr(0, kMagic.size()) != kMagic) return bad("bad header");
  const uint64_t want = DecodeFixed64(in.data() + in.size() - 8);
  if (XXH3_64bits(in.data(), in.size() - 8) != want) return bad("checksum mismatch");
  std::string_view p = in.substr(kMagic.size(), in.size() - 8 - kMagic.size());
  uint64_t n = 0;
  if (!GetSigned(&p, &out->decided_until_ns)) return bad("truncated header");
  if (!GetVarint64(&p, &n) || n > p.size()) return bad("bad count of counts");
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view project;
    uint64_t traces = 0;
    if (!GetLengthPrefixed(&p, &project) || p.size() < 2) return bad("truncated count");
    const bool kept = p[0] != 0;
    const int reason = static_cast<uint8_t>(p[1]);
    p.remove_prefix(2);
    if (!GetVarint64(&p, &traces)) return bad("truncated count");
    out->counts[{std::string(project), kept, reason}] += static_cast<int64_t>(traces);
  }
  if (!GetVarint64(&p, &n) || n > p.size() / 18) return bad("bad count of drops");
  for (uint64_t i = 0; i < n; ++i) {
    if (p.size() < 16) return bad("truncated drop");
    TraceKey k;
    k.hi = DecodeFixed64(p.data());
    k.lo = DecodeFixed64(p.data() + 8);
    p.remove_prefix(16);
    PendingDrop d;
    uint64_t files = 0;
    if (!GetVarint64(&p, &d.wal) || !GetVarint64(&p, &files) || files > p.size()) return bad("truncated drop");
    d.files.resize(files);
    for (auto& f : d.files)
      if (!GetVarint64(&p, &f)) return bad("truncated drop");
    out->drops[k] = std::move(d);
  }
  if (!p.empty()) return bad("trailing bytes");
  return Status::OK();
}

Status ReadSamplingState(Env* env, const std::string& dir, SamplingState* out, bool* found) {
  *out = SamplingState();
  const std::string path = JoinPath(dir, kSamplingFile);
  *found = env->FileExists(path);
  if (!*found) return Status::OK();
  SL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
  return DecodeSamplingState(bytes, out).WithContext(path);
}

Status WriteSamplingState(Env* env, const std::string& dir, const SamplingState& s) {
  std::string bytes;
  EncodeSamplingState(s, &bytes);
  return WriteFileAtomically(env, JoinPath(dir, kSamplingFile), bytes);
}

}  // namespace sightline::store::sampling
