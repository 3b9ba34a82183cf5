// segment_sizes: where a store's bytes on disk go. Reads a data directory (the live
// segments its manifest lists, read-only, so a stopped server's directory or a copy of
// a running one's) and prints, per span and in total:
//   - every top-level entry of the directory (segments, WAL, rollups, metadata, ...);
//   - the segments' bytes per column (stored and raw), payload frames, meta, headers;
//   - payload pieces: how many, their raw bytes by what references them (input_json,
//     output_json, large attributes), and how many are stored in more than one segment
//     file (within one file a piece is stored once; across files it is not);
//   - inline attribute text (values below the large-value threshold) by key.
//
//   segment_sizes DATA_DIR [--top N] [--compact] [--dump-pieces FILE]
//
// --compact first opens the directory as a store and merges every partition's files
// into one (CompactNow with min_merge 2, no size ratio): what compaction does to the
// figures. It changes the directory: run it on a copy.
// Version 1 segment files are counted by size only.
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/env.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/columnar_reader.h"
#include "store/columnar/payload_codec.h"
#include "store/embedded_store.h"
#include "store/manifest/manifest.h"
#include "store/segment/segment_format.h"

namespace sightline {
namespace {

using store::columnar::ColumnarReader;
namespace col = store::columnar;

struct PieceInfo {
  uint32_t files = 0;      // segment files holding it
  uint64_t len = 0;
  double stored_each = 0;  // estimated stored bytes of one copy (its frame's ratio)
  uint8_t used_by = 0;     // 1 attribute, 2 input_json, 4 output_json (union over files)
};

struct KeyStats {
  uint64_t inline_count = 0, inline_bytes = 0, large_count = 0, ref_count = 0;
};

uint64_t DirBytes(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  if (size.ok()) return *size;
  auto children = env->GetChildren(path);
  if (!children.ok()) return 0;
  uint64_t n = 0;
  for (const std::string& c : *children)
    if (c != "." && c != "..") n += DirBytes(env, JoinPath(path, c));
  return n;
}

int Compact(const std::string& dir) {
  store::EmbeddedStoreOptions o;
  o.dir = dir;
  o.compaction.enabled = false;  // no background thread: CompactNow below does it all
  o.compaction.min_merge = 2;
  o.compaction.max_merge = 1024;
  o.compaction.size_ratio = 1e18;
  o.compaction.max_bytes_per_sec = 0;
  o.compaction.max_output_bytes = UINT64_MAX / 2;
  auto st = store::EmbeddedStore::Open(o);
  Status s = st.ok() ? (*st)->CompactNow() : st.status();
  if (s.ok()) s = (*st)->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "segment_sizes: compacting %s: %s\n", dir.c_str(), s.ToString().c_str());
    return 1;
  }
  return 0;
}

int Run(const std::string& dir, size_t top, const std::string& dump) {
  Env* env = Env::Default();
  std::FILE* dump_file = dump.empty() ? nullptr : std::fopen(dump.c_str(), "wb");
  auto state = store::manifest::Manifest::Read(env, dir);
  if (!state.ok()) {
    std::fprintf(stderr, "segment_sizes: %s\n", state.status().ToString().c_str());
    return 1;
  }
  const std::string seg_dir = JoinPath(dir, "segments");
  uint64_t spans = 0, seg_bytes = 0, v1_bytes = 0;
  for (const auto& [n, m] : state->files) spans += m.spans;
  auto per_span = [&](double b) { return spans ? b / static_cast<double>(spans) : 0.0; };

  std::printf("data directory %s: %zu live segment files, %" PRIu64 " spans\n\n", dir.c_str(), state->files.size(), spans);
  std::printf("%-28s %14s %10s\n", "entry", "bytes", "B/span");
  auto children = env->GetChildren(dir);
  uint64_t total = 0;
  if (children.ok()) {
    std::sort(children->begin(), children->end());
    for (const std::string& c : *children) {
      if (c == "." || c == "..") continue;
      uint64_t b = DirBytes(env, JoinPath(dir, c));
      total += b;
      std::printf("%-28s %14" PRIu64 " %10.1f\n", c.c_str(), b, per_span(static_cast<double>(b)));
    }
  }
  std::printf("%-28s %14" PRIu64 " %10.1f\n\n", "total", total, per_span(static_cast<double>(total)));

  std::vector<uint64_t> stored(col::kColMax, 0), raw(col::kColMax, 0);
  uint64_t frame_stored = 0, frame_raw = 0, frames = 0, pieces = 0, meta = 0, fixed = 0, blocks = 0;
  std::unordered_map<std::string, PieceInfo> by_hash;  // SHA-256 -> piece
  std::map<std::string, KeyStats> keys;
  for (const auto& [number, m] : state->files) {
    const std::string path = JoinPath(seg_dir, store::segment::SegmentFileName(number));
    if (m.format != col::kFormatVersion) {
      v1_bytes += m.bytes;
      continue;
    }
    auto r = ColumnarReader::Open(env, path, [](const col::TraceEntry&) { return Status::OK(); });
    if (!r.ok()) {
      std::fprintf(stderr, "segment_sizes: %s\n", r.status().ToString().c_str());
      return 1;
    }
    const ColumnarReader& rd = **r;
    seg_bytes += rd.file_bytes();
    uint64_t data = 0;
    std::vector<uint8_t> used(rd.payload_piece_count(), 0);
    for (uint32_t b = 0; b < rd.blocks().size(); ++b) {
      const ColumnarReader::Block& blk = rd.blocks()[b];
      ++blocks;
      for (const auto& c : blk.chunks) {
        stored[c.id] += c.stored_len;
        raw[c.id] += c.raw_len;
        data += c.stored_len;
      }
      // Which columns reference each piece, and the inline attribute text by key.
      ColumnarReader::BlockView view;
      Status s = rd.LoadBlockColumns(b, {col::kColAttrKeys, col::kColAttrText, col::kColAttrTextRef, col::kColAttrPayload, col::kColInput,
                                         col::kColOutput},
                                     &view);
      if (!s.ok()) {
        std::fprintf(stderr, "segment_sizes: %s\n", s.ToString().c_str());
        return 1;
      }
      std::vector<uint32_t> offsets;
      std::vector<std::string_view> kv, text;
      std::vector<uint8_t> large, ref;
      if (col::DecodeAttrKeys(view.col(col::kColAttrKeys), blk.row_count, &offsets, &kv) &&
          col::DecodeAttrValues(view.col(col::kColAttrText), view.col(col::kColAttrTextRef), kv.size(), &text, &large,
                                &ref)) {
        size_t nlarge = 0;
        for (size_t i = 0; i < kv.size(); ++i) {
          KeyStats& k = keys[std::string(kv[i])];
          if (large[i]) {
            ++k.large_count;
            ++nlarge;
          } else if (ref[i]) {
            ++k.ref_count;  // the value is the row's column ref[i]: not stored again
          } else {
            ++k.inline_count;
            k.inline_bytes += text[i].size();
          }
        }
        std::vector<col::RefList> lists;
        if (nlarge && col::DecodeRefLists(view.col(col::kColAttrPayload), nlarge, rd.payload_piece_count(), &lists))
          for (const auto& l : lists)
            for (uint32_t p : l.pieces) used[p] |= 1;
      }
      for (auto [id, bit] : {std::pair{col::kColInput, 2}, std::pair{col::kColOutput, 4}}) {
        std::vector<col::RefList> lists;
        if (!view.col(id).empty() &&
            col::DecodeRefLists(view.col(id), blk.row_count, rd.payload_piece_count(), &lists))
          for (const auto& l : lists)
            for (uint32_t p : l.pieces) used[p] |= static_cast<uint8_t>(bit);
      }
    }
    for (const auto& f : rd.frames()) {
      frame_stored += f.stored_len;
      frame_raw += f.raw_len;
      data += f.stored_len;
      ++frames;
    }
    pieces += rd.payload_piece_count();
    std::vector<double> ratio;
    for (const auto& f : rd.frames())
      ratio.push_back(f.raw_len ? static_cast<double>(f.stored_len) / static_cast<double>(f.raw_len) : 1.0);
    Status s = rd.ForEachPiece([&](uint32_t p, uint32_t fi, std::string_view bytes) {
      PieceInfo& pi = by_hash[col::Sha256(bytes)];
      ++pi.files;
      pi.len = bytes.size();
      pi.stored_each = ratio[fi] * static_cast<double>(bytes.size());
      pi.used_by |= used[p];
      if (dump_file) std::fwrite(bytes.data(), 1, bytes.size(), dump_file);
      return Status::OK();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "segment_sizes: %s\n", s.ToString().c_str());
      return 1;
    }
    uint64_t meta_len = 0;
    for (const auto& reg : rd.regions())
      if (reg.what == "meta") meta_len = reg.length;
    meta += meta_len;
    fixed += rd.file_bytes() - data - meta_len;
  }

  std::printf("segments: %" PRIu64 " bytes (%.1f B/span), %" PRIu64 " blocks; v1 files %" PRIu64 " bytes\n", seg_bytes,
              per_span(static_cast<double>(seg_bytes)), blocks, v1_bytes);
  std::printf("%-28s %14s %10s %14s %7s\n", "part", "stored", "B/span", "raw", "ratio");
  auto line = [&](const std::string& what, uint64_t st, uint64_t rw) {
    std::printf("%-28s %14" PRIu64 " %10.1f %14" PRIu64 " %7.3f\n", what.c_str(), st, per_span(static_cast<double>(st)),
                rw, rw ? static_cast<double>(st) / static_cast<double>(rw) : 0.0);
  };
  std::vector<uint32_t> ids;
  for (uint32_t id = 1; id < col::kColMax; ++id)
    if (stored[id]) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return stored[a] > stored[b]; });
  for (uint32_t id : ids) line("column " + std::string(col::ColumnName(id)), stored[id], raw[id]);
  line("payload frames (" + std::to_string(frames) + ")", frame_stored, frame_raw);
  line("meta regions", meta, 0);
  line("headers, tails", fixed, 0);

  uint64_t distinct = by_hash.size(), multi = 0, extra_copies = 0, extra_raw = 0;
  double extra_stored = 0;
  std::map<int, std::pair<uint64_t, uint64_t>> by_use;  // used_by -> (pieces, raw bytes of one copy)
  for (const auto& [h, pi] : by_hash) {
    auto& u = by_use[pi.used_by];
    ++u.first;
    u.second += pi.len;
    if (pi.files < 2) continue;
    ++multi;
    extra_copies += pi.files - 1;
    extra_raw += (pi.files - 1) * pi.len;
    extra_stored += (pi.files - 1) * pi.stored_each;
  }
  std::printf("\npayload pieces: %" PRIu64 " stored, %" PRIu64 " distinct; %" PRIu64
              " stored in more than one file, %" PRIu64 " extra copies: %" PRIu64 " raw bytes (%.1f B/span), ~%.0f stored (%.1f B/span)\n",
              pieces, distinct, multi, extra_copies, extra_raw, per_span(static_cast<double>(extra_raw)), extra_stored,
              per_span(extra_stored));
  std::printf("distinct pieces by referencing column (one copy each):\n");
  for (const auto& [use, pr] : by_use) {
    std::string what;
    if (use & 1) what += "attr ";
    if (use & 2) what += "input ";
    if (use & 4) what += "output ";
    if (what.empty()) what = "(none) ";
    std::printf("  %-24s %10" PRIu64 " pieces %14" PRIu64 " raw bytes %10.1f B/span\n", what.c_str(), pr.first,
                pr.second, per_span(static_cast<double>(pr.second)));
  }

  if (dump_file) std::fclose(dump_file);
  std::vector<std::pair<std::string, KeyStats>> kl(keys.begin(), keys.end());
  std::sort(kl.begin(), kl.end(), [](const auto& a, const auto& b) { return a.second.inline_bytes > b.second.inline_bytes; });
  std::printf("\nattribute keys by inline text bytes (raw, before compression; ref: values naming their column):\n");
  for (size_t i = 0; i < kl.size() && i < top; ++i)
    std::printf("  %-40s %9" PRIu64 " inline %12" PRIu64 " bytes %9.1f B/span %7" PRIu64 " large %9" PRIu64 " ref\n",
                kl[i].first.c_str(), kl[i].second.inline_count, kl[i].second.inline_bytes,
                per_span(static_cast<double>(kl[i].second.inline_bytes)), kl[i].second.large_count,
                kl[i].second.ref_count);
  return 0;
}

}  // namespace
}  // namespace sightline

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: segment_sizes DATA_DIR [--top N]\n");
    return 2;
  }
  size_t top = 20;
  bool compact = false;
  std::string dump;  // --dump-pieces FILE: every stored piece's bytes, for compression experiments
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--top" && i + 1 < argc) top = static_cast<size_t>(std::stoul(argv[++i]));
    else if (std::string(argv[i]) == "--compact") compact = true;
    else if (std::string(argv[i]) == "--dump-pieces" && i + 1 < argc) dump = argv[++i];
  }
  if (compact && sightline::Compact(argv[1]) != 0) return 1;
  return sightline::Run(argv[1], top, dump);
}
