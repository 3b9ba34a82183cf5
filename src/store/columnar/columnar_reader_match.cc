// ColumnarReader's reads of row ranges for the store's queries: MatchRows (a trace
// search's attribute and text filters answered from the columns kColAttrKeys/Text/
// Payload, kColScope, kColInput/Output, without rebuilding spans) and SpanIdsOf (the
// span ids of traces, to find copies of a span in several files).
//
// Text without rendering: a payload value is one whole piece, or "[" + pieces joined by
// a separator + "]", and pieces repeat across rows (turn N re-sends turns 1..N-1), so
// rendering every row would cost the square of a conversation's length. Instead each
// distinct piece is searched once, and a row checks only the bytes around its joins.
// Proof sketch: call the bytes of a token (piece, "[", separator, "]") that lie at least
// k = n - 1 bytes from both of its ends its interior. An occurrence of an n-byte needle
// that covers an interior byte lies inside that token (searched on its own); any other
// occurrence lies in a maximal run of non-interior bytes, which is the concatenation of
// each token's first and last k bytes (short tokens whole) between two interiors. So
// "some token contains it, or some run does" is exactly "the rendered value contains
// it", with the same byte comparison (store::ContainsIgnoreCase).
#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"
#include "store/columnar/columnar_reader_internal.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

// Whether a value contains the needle, from the memo's answers for its pieces. Without
// joins (the needle has none of the bytes a join adds: see TextMemo), a match lies inside
// one piece: the value matches when one of its pieces does. Otherwise the runs around
// the joins are searched as the proof sketch above says, from the pieces' edges.
class PhraseMatcher {
 public:
  PhraseMatcher(const std::vector<uint8_t>& contains, const std::vector<std::string>& edges, const std::string& needle,
                bool joins)
      : contains_(contains), edges_(edges), needle_(needle), k_(needle.size() - 1), joins_(joins) {
    for (std::string_view lit : {std::string_view("["), std::string_view("]"), std::string_view(","),
                                 std::string_view(", ")})
      literals_.emplace(lit, Make(lit));
  }

  // Whether the value the list names contains the needle. Every piece's frame must be
  // known to the memo.
  bool Contains(const RefList& l) const {
    if (l.kind == kRefAbsent) return false;
    if (!joins_) {
      for (uint32_t p : l.pieces)
        if (contains_[p]) return true;
      return false;
    }
    std::string run;
    if (l.kind == kRefWhole) return !l.pieces.empty() && contains_[l.pieces[0]];
    const std::string_view sep = l.kind == kRefArraySpaced ? ", " : ",";
    if (VisitLiteral("[", &run)) return true;
    for (size_t i = 0; i < l.pieces.size(); ++i) {
      if (i > 0 && VisitLiteral(sep, &run)) return true;
      if (Visit(contains_[l.pieces[i]] != 0, edges_[l.pieces[i]], &run)) return true;
    }
    return VisitLiteral("]", &run) || ContainsIgnoreCase(run, needle_);
  }

  // The edges a piece keeps: the whole piece, or (longer than 2k) its first k then its
  // last k bytes.
  static std::string Edges(std::string_view bytes, size_t k) {
    if (bytes.size() <= 2 * k) return std::string(bytes);
    std::string e(bytes.substr(0, k));
    e.append(bytes.substr(bytes.size() - k));
    return e;
  }

 private:
  struct Token {
    bool contains = false;
    std::string edges;
  };
  Token Make(std::string_view bytes) const { return Token{ContainsIgnoreCase(bytes, needle_), Edges(bytes, k_)}; }
  bool VisitLiteral(std::string_view lit, std::string* run) const {
    const Token& t = literals_.at(lit);
    return Visit(t.contains, t.edges, run);
  }
  // Adds a token to the current run; true when the needle is found. A token whose
  // edges are 2k bytes long is long (it has an interior) when it was cut: the two cases
  // run the same way, since an uncut token of exactly 2k bytes has no interior either
  // and its first and last k bytes are all of it.
  bool Visit(bool contains, const std::string& edges, std::string* run) const {
    if (contains) return true;
    if (edges.size() < 2 * k_ || k_ == 0) {
      run->append(edges);
      return false;
    }
    run->append(edges, 0, k_);
    if (ContainsIgnoreCase(*run, needle_)) return true;
    run->assign(edges, k_, std::string::npos);
    return false;
  }

  const std::vector<uint8_t>& contains_;
  const std::vector<std::string>& edges_;
  const std::string& needle_;
  size_t k_;
  bool joins_;
  std::unordered_map<std::string_view, Token> literals_;
};

// Whether a match of the needle can cross a join of an array value: the join adds "[",
// "]", "," or ", " between pieces, so a match crossing one holds '[', ']' or ',', or
// holds only the space of ", " and then starts with it.
bool NeedleCrossesJoins(std::string_view needle) {
  return needle.find_first_of("[],") != std::string_view::npos || (!needle.empty() && needle[0] == ' ');
}

}  // namespace

TextMemo::TextMemo(std::string needle_lower, size_t frames, size_t pieces)
    : finder_(std::move(needle_lower)),
      joins_(NeedleCrossesJoins(finder_.needle())),
      frame_state_(new std::atomic<uint8_t>[frames]),
      contains_(pieces, 0) {
  for (size_t i = 0; i < frames; ++i) frame_state_[i].store(kUnsearched, std::memory_order_relaxed);
  if (joins_) edges_.resize(pieces);
}

std::shared_ptr<TextMemo> ColumnarReader::NewTextMemo(const std::string& needle_lower) const {
  return std::shared_ptr<TextMemo>(new TextMemo(needle_lower, frames_.size(), piece_frame_.size()));
}

bool ColumnarReader::SearchFrames(const std::vector<uint32_t>& frames, TextMemo* memo) const {
  std::vector<uint32_t> others;  // claimed by another thread: their answers are awaited last
  std::string raw;
  const size_t k = memo->finder_.needle().empty() ? 0 : memo->finder_.needle().size() - 1;
  for (uint32_t fi : frames) {
    std::atomic<uint8_t>& state = memo->frame_state_[fi];
    const uint8_t now = state.load(std::memory_order_acquire);
    if (now == TextMemo::kDone) continue;
    if (now == TextMemo::kUnreadable) return false;
    uint8_t expect = TextMemo::kUnsearched;
    if (!state.compare_exchange_strong(expect, TextMemo::kBusy, std::memory_order_acq_rel)) {
      others.push_back(fi);
      continue;
    }
    if (!LoadFrame(fi, &raw).ok()) {
      state.store(TextMemo::kUnreadable, std::memory_order_release);
      return false;
    }
    memo->frames_loaded_.fetch_add(1, std::memory_order_relaxed);
    // The frame's pieces are consecutive: the first is the first piece naming it.
    auto first = std::lower_bound(piece_frame_.begin(), piece_frame_.end(), fi);
    const std::string_view bytes(raw);
    for (auto p = static_cast<size_t>(first - piece_frame_.begin()); p < piece_frame_.size() && piece_frame_[p] == fi;
         ++p) {
      const std::string_view piece = bytes.substr(static_cast<size_t>(piece_offset_[p]), piece_len_[p]);
      memo->contains_[p] = memo->finder_.In(piece) ? 1 : 0;
      if (memo->joins_) memo->edges_[p] = PhraseMatcher::Edges(piece, k);
    }
    state.store(TextMemo::kDone, std::memory_order_release);
  }
  for (uint32_t fi : others) {
    uint8_t now;
    while ((now = memo->frame_state_[fi].load(std::memory_order_acquire)) == TextMemo::kBusy)
      std::this_thread::yield();
    if (now != TextMemo::kDone) return false;
  }
  return true;
}

Status ColumnarReader::MatchRows(const RowMatchSpec& spec, const std::vector<RowRange>& ranges,
                                 std::vector<uint32_t>* bits, std::vector<uint8_t>* unreadable,
                                 TextMemo* memo) const {
  if (spec.attrs.size() > RowMatchSpec::kMaxAttrs) return Status::InvalidArgument("too many attribute filters");
  bits->assign(ranges.size(), 0);
  unreadable->assign(ranges.size(), 0);
  const bool want_attrs = !spec.attrs.empty(), want_text = !spec.text_lower.empty();
  if (!want_attrs && !want_text) return Status::OK();
  std::vector<uint8_t> columns;
  columns.reserve(6);
  if (want_attrs)
    for (uint8_t id : {kColAttrKeys, kColAttrText, kColAttrPayload, kColScope, kColAttrTextRef}) columns.push_back(id);
  if (want_text)
    for (uint8_t id : {kColInput, kColOutput}) columns.push_back(id);
  const uint32_t npieces = payload_piece_count();
  std::shared_ptr<TextMemo> own_memo;
  std::optional<PhraseMatcher> phrase;
  if (want_text) {
    if (!memo || memo->finder_.needle() != spec.text_lower || memo->contains_.size() != npieces) {
      own_memo = NewTextMemo(spec.text_lower);
      memo = own_memo.get();
    }
    phrase.emplace(memo->contains_, memo->edges_, memo->finder_.needle(), memo->joins_);
  }
  std::vector<uint32_t> frames;
  std::vector<uint32_t> frame_stamp(want_text ? frames_.size() : 0, 0);  // == stamp: listed for this block
  uint32_t stamp = 0;
  std::unordered_map<const char*, uint32_t> scope_bits;  // resource matches by scope entry, per block

  // Evaluates the rows [from, to) of block bi for ranges [i, j); false when the block's
  // columns cannot be read or decoded.
  auto block = [&](size_t bi, uint64_t from, uint64_t to, size_t i, size_t j) -> bool {
    const Block& b = blocks_[bi];
    const size_t n = b.row_count;
    // The block's rows the ranges cover (block-relative row, range index).
    std::vector<std::pair<size_t, size_t>> rows;
    for (size_t k = i; k < j; ++k) {
      const uint64_t lo = std::max<uint64_t>(ranges[k].first_row, from);
      const uint64_t hi = std::min<uint64_t>(static_cast<uint64_t>(ranges[k].first_row) + ranges[k].row_count, to);
      for (uint64_t r = lo; r < hi; ++r) rows.emplace_back(static_cast<size_t>(r - b.first_row), k);
    }
    if (rows.empty()) return true;
    BlockView v;
    if (!LoadBlock(static_cast<uint32_t>(bi), columns, &v).ok()) return false;
    std::vector<uint32_t> offsets;
    std::vector<std::string_view> keys, text, scopes;
    std::vector<uint8_t> large, ref;
    RefColumn large_lists, inputs, outputs;  // lists put together only for the rows asked about
    RefList one;
    internal::RefColumns ref_cols;
    std::deque<std::string> ref_arena;
    std::vector<uint32_t> large_index;
    std::vector<uint32_t> need;
    if (want_attrs) {
      if (!DecodeAttrKeys(v.col(kColAttrKeys), n, &offsets, &keys) ||
          !DecodeAttrValues(v.col(kColAttrText), v.col(kColAttrTextRef), keys.size(), &text, &large, &ref) ||
          !DecodeStrings(v.col(kColScope), n, &scopes))
        return false;
      // The columns that the asked keys' values refer to, in the rows asked about.
      uint64_t refs = 0;
      for (const auto& rr : rows)
        for (uint32_t a = offsets[rr.first]; a < offsets[rr.first + 1]; ++a)
          if (ref[a] != 0 &&
              std::any_of(spec.attrs.begin(), spec.attrs.end(), [&](const auto& kv) { return kv.first == keys[a]; }))
            refs |= uint64_t{1} << ref[a];
      if (refs != 0 && !LoadRefColumns(static_cast<uint32_t>(bi), refs, &v, &ref_cols).ok()) return false;
      large_index.assign(keys.size(), 0);
      size_t nlarge = 0;
      for (size_t a = 0; a < keys.size(); ++a)
        if (large[a]) large_index[a] = static_cast<uint32_t>(nlarge++);
      if (nlarge > 0) {
        if (!large_lists.Decode(v.col(kColAttrPayload), nlarge, npieces)) return false;
        for (const auto& rr : rows) {
          const size_t row = rr.first;
          for (uint32_t a = offsets[row]; a < offsets[row + 1]; ++a) {
            if (!large[a]) continue;
            if (std::none_of(spec.attrs.begin(), spec.attrs.end(), [&](const auto& kv) { return kv.first == keys[a]; }))
              continue;
            large_lists.Get(large_index[a], &one);
            if (one.kind == kRefAbsent) return false;
            need.insert(need.end(), one.pieces.begin(), one.pieces.end());
          }
        }
      } else if (!v.col(kColAttrPayload).empty()) {
        return false;
      }
    }
    if (want_text) {
      if (!inputs.Decode(v.col(kColInput), n, npieces) || !outputs.Decode(v.col(kColOutput), n, npieces)) return false;
      frames.clear();
      ++stamp;
      for (const auto& rr : rows) {
        const size_t row = rr.first;
        for (const RefColumn* c : {&inputs, &outputs}) {
          c->Get(row, &one);
          for (uint32_t p : one.pieces) {  // Decode checked p < npieces
            const uint32_t f = piece_frame_[p];
            if (frame_stamp[f] == stamp) continue;
            frame_stamp[f] = stamp;
            if (memo->frame_state_[f].load(std::memory_order_acquire) != TextMemo::kDone) frames.push_back(f);
          }
        }
      }
      std::sort(frames.begin(), frames.end());
      if (!SearchFrames(frames, memo)) return false;
    }
    std::sort(need.begin(), need.end());
    need.erase(std::unique(need.begin(), need.end()), need.end());
    PieceSource src;
    if (!LoadPieces(need, &src).ok()) return false;

    scope_bits.clear();
    std::string value;
    for (const auto& [row, ri] : rows) {
      uint32_t got = 0;
      if (want_attrs) {
        for (uint32_t a = offsets[row]; a < offsets[row + 1]; ++a) {
          for (size_t k = 0; k < spec.attrs.size(); ++k) {
            if (keys[a] != spec.attrs[k].first) continue;
            std::string_view val = text[a];
            if (ref[a] != 0 && !AttrRefText(ref[a], row, ref_cols.cols, &val, &ref_arena)) return false;
            if (large[a]) {
              large_lists.Get(large_index[a], &one);
              RenderRefList(one, [&](uint32_t p) { return src.piece(p); }, &value);
              val = value;
            }
            if (val == spec.attrs[k].second) got |= 1u << k;
          }
        }
        if (!scopes[row].empty()) {
          auto [it, fresh] = scope_bits.try_emplace(scopes[row].data(), 0);
          if (fresh) {
            model::Span scope;
            if (!scope.ParseFromArray(scopes[row].data(), static_cast<int>(scopes[row].size()))) return false;
            for (size_t k = 0; k < spec.attrs.size(); ++k)
              if (SpanHasAttr(scope, spec.attrs[k].first, spec.attrs[k].second)) it->second |= 1u << k;
          }
          got |= it->second;
        }
      }
      if (want_text && (phrase->Contains(inputs[row]) || phrase->Contains(outputs[row])))
        got |= RowMatchSpec::kTextBit;
      (*bits)[ri] |= got;
    }
    return true;
  };

  size_t i = 0;
  uint64_t done = 0;  // rows below this were visited
  while (i < ranges.size()) {
    const uint64_t end = static_cast<uint64_t>(ranges[i].first_row) + ranges[i].row_count;
    const uint64_t start = std::max<uint64_t>(ranges[i].first_row, done);
    if (start >= end) {
      ++i;
      continue;
    }
    if (end > row_count_) {  // not this file's rows: the trace read will say so
      (*unreadable)[i] = 1;
      ++i;
      continue;
    }
    auto it = std::upper_bound(blocks_.begin(), blocks_.end(), start,
                               [](uint64_t row, const Block& b) { return row < b.first_row; });
    const size_t bi = static_cast<size_t>(it - blocks_.begin()) - 1;  // blocks_[0].first_row == 0
    const uint64_t bend = static_cast<uint64_t>(blocks_[bi].first_row) + blocks_[bi].row_count;
    size_t j = i + 1;
    while (j < ranges.size() && ranges[j].first_row < bend &&
           static_cast<uint64_t>(ranges[j].first_row) + ranges[j].row_count <= row_count_)
      ++j;
    const uint64_t last_end = static_cast<uint64_t>(ranges[j - 1].first_row) + ranges[j - 1].row_count;
    if (!block(bi, start, std::min(bend, last_end), i, j))
      for (size_t k = i; k < j; ++k) (*unreadable)[k] = 1;
    done = bend;
    i = last_end > bend ? j - 1 : j;
  }
  return Status::OK();
}

Status ColumnarReader::SpanIdsOf(const std::vector<RowRange>& ranges, std::vector<std::vector<uint64_t>>* ids) const {
  ids->assign(ranges.size(), {});
  size_t cached = SIZE_MAX;  // the block whose ids are in `block_ids`
  std::vector<uint64_t> block_ids;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const uint64_t end = static_cast<uint64_t>(ranges[i].first_row) + ranges[i].row_count;
    if (end > row_count_)
      return Status::InvalidArgument(path_ + ": rows " + std::to_string(ranges[i].first_row) + "+" +
                                     std::to_string(ranges[i].row_count) + " outside the segment");
    for (uint64_t r = ranges[i].first_row; r < end;) {
      auto it = std::upper_bound(blocks_.begin(), blocks_.end(), r,
                                 [](uint64_t row, const Block& b) { return row < b.first_row; });
      const size_t bi = static_cast<size_t>(it - blocks_.begin()) - 1;
      const Block& b = blocks_[bi];
      if (bi != cached) {
        BlockView v;
        SL_RETURN_IF_ERROR(LoadBlock(static_cast<uint32_t>(bi), {kColSpanId}, &v));
        if (!DecodeSpanIds(v.col(kColSpanId), b.row_count, &block_ids))
          return Corrupt("block " + std::to_string(bi) + " column 'span_id' does not decode");
        cached = bi;
      }
      const uint64_t stop = std::min<uint64_t>(end, static_cast<uint64_t>(b.first_row) + b.row_count);
      for (; r < stop; ++r) (*ids)[i].push_back(block_ids[static_cast<size_t>(r - b.first_row)]);
    }
  }
  return Status::OK();
}

}  // namespace sightline::store::columnar
