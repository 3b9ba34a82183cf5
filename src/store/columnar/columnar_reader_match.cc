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
#include <unordered_map>

#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"
#include "store/columnar/columnar_reader_internal.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

// Finds a lowercased needle in reference lists whose pieces were each Add()ed once.
class PhraseMatcher {
 public:
  explicit PhraseMatcher(std::string_view needle_lower) : needle_(needle_lower), k_(needle_.size() - 1) {
    for (std::string_view lit : {std::string_view("["), std::string_view("]"), std::string_view(","),
                                 std::string_view(", ")})
      literals_.emplace(lit, Make(lit));
  }

  bool Known(uint32_t piece) const { return pieces_.count(piece) != 0; }
  void Add(uint32_t piece, std::string_view bytes) { pieces_.emplace(piece, Make(bytes)); }

  // Whether the value the list names contains the needle. Every piece must be Known.
  bool Contains(const RefList& l) const {
    if (l.kind == kRefAbsent) return false;
    std::string run;
    if (l.kind == kRefWhole) return !l.pieces.empty() && Visit(Piece(l.pieces[0]), &run);
    const std::string_view sep = l.kind == kRefArraySpaced ? ", " : ",";
    if (Visit(Literal("["), &run)) return true;
    for (size_t i = 0; i < l.pieces.size(); ++i) {
      if (i > 0 && Visit(Literal(sep), &run)) return true;
      if (Visit(Piece(l.pieces[i]), &run)) return true;
    }
    return Visit(Literal("]"), &run) || ContainsIgnoreCase(run, needle_);
  }

 private:
  struct Token {
    bool contains = false;
    bool is_long = false;  // longer than 2k: has an interior
    std::string edges;     // the whole token, or (long) its first k then its last k bytes
  };
  Token Make(std::string_view bytes) const {
    Token t;
    t.contains = ContainsIgnoreCase(bytes, needle_);
    t.is_long = bytes.size() > 2 * k_;
    if (t.is_long) {
      t.edges.assign(bytes.substr(0, k_));
      t.edges.append(bytes.substr(bytes.size() - k_));
    } else {
      t.edges.assign(bytes);
    }
    return t;
  }
  const Token& Piece(uint32_t p) const { return pieces_.at(p); }
  const Token& Literal(std::string_view s) const { return literals_.at(s); }
  // Adds a token to the current run; true when the needle is found.
  bool Visit(const Token& t, std::string* run) const {
    if (t.contains) return true;
    if (!t.is_long) {
      run->append(t.edges);
      return false;
    }
    run->append(t.edges, 0, k_);
    if (ContainsIgnoreCase(*run, needle_)) return true;
    run->assign(t.edges, k_, std::string::npos);
    return false;
  }

  std::string needle_;
  size_t k_;
  std::unordered_map<uint32_t, Token> pieces_;
  std::unordered_map<std::string_view, Token> literals_;
};

}  // namespace

Status ColumnarReader::MatchRows(const RowMatchSpec& spec, const std::vector<RowRange>& ranges,
                                 std::vector<uint32_t>* bits, std::vector<uint8_t>* unreadable) const {
  if (spec.attrs.size() > RowMatchSpec::kMaxAttrs) return Status::InvalidArgument("too many attribute filters");
  bits->assign(ranges.size(), 0);
  unreadable->assign(ranges.size(), 0);
  const bool want_attrs = !spec.attrs.empty(), want_text = !spec.text_lower.empty();
  if (!want_attrs && !want_text) return Status::OK();
  std::vector<uint8_t> columns;
  columns.reserve(6);
  if (want_attrs)
    for (uint8_t id : {kColAttrKeys, kColAttrText, kColAttrPayload, kColScope}) columns.push_back(id);
  if (want_text)
    for (uint8_t id : {kColInput, kColOutput}) columns.push_back(id);
  const uint32_t npieces = payload_piece_count();
  std::optional<PhraseMatcher> phrase;
  if (want_text) phrase.emplace(spec.text_lower);
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
    std::vector<uint8_t> large;
    std::vector<RefList> large_lists, inputs, outputs;
    std::vector<uint32_t> large_index;
    std::vector<uint32_t> need;
    if (want_attrs) {
      if (!DecodeAttrKeys(v.col(kColAttrKeys), n, &offsets, &keys) ||
          !DecodeAttrText(v.col(kColAttrText), keys.size(), &text, &large) ||
          !DecodeStrings(v.col(kColScope), n, &scopes))
        return false;
      large_index.assign(keys.size(), 0);
      size_t nlarge = 0;
      for (size_t a = 0; a < keys.size(); ++a)
        if (large[a]) large_index[a] = static_cast<uint32_t>(nlarge++);
      if (nlarge > 0) {
        if (!DecodeRefLists(v.col(kColAttrPayload), nlarge, npieces, &large_lists)) return false;
        for (const auto& rr : rows) {
          const size_t row = rr.first;
          for (uint32_t a = offsets[row]; a < offsets[row + 1]; ++a) {
            if (!large[a]) continue;
            if (std::none_of(spec.attrs.begin(), spec.attrs.end(), [&](const auto& kv) { return kv.first == keys[a]; }))
              continue;
            const RefList& l = large_lists[large_index[a]];
            if (l.kind == kRefAbsent) return false;
            need.insert(need.end(), l.pieces.begin(), l.pieces.end());
          }
        }
      } else if (!v.col(kColAttrPayload).empty()) {
        return false;
      }
    }
    if (want_text) {
      if (!DecodeRefLists(v.col(kColInput), n, npieces, &inputs) ||
          !DecodeRefLists(v.col(kColOutput), n, npieces, &outputs))
        return false;
      for (const auto& rr : rows) {
        const size_t row = rr.first;
        for (const RefList* l : {&inputs[row], &outputs[row]})
          for (uint32_t p : l->pieces)
            if (!phrase->Known(p)) need.push_back(p);
      }
    }
    std::sort(need.begin(), need.end());
    need.erase(std::unique(need.begin(), need.end()), need.end());
    PieceSource src;
    if (!LoadPieces(need, &src).ok()) return false;
    if (want_text)
      for (uint32_t p : need)
        if (!phrase->Known(p)) phrase->Add(p, src.piece(p));

    scope_bits.clear();
    std::string value;
    for (const auto& [row, ri] : rows) {
      uint32_t got = 0;
      if (want_attrs) {
        for (uint32_t a = offsets[row]; a < offsets[row + 1]; ++a) {
          for (size_t k = 0; k < spec.attrs.size(); ++k) {
            if (keys[a] != spec.attrs[k].first) continue;
            std::string_view val = text[a];
            if (large[a]) {
              RenderRefList(large_lists[large_index[a]], [&](uint32_t p) { return src.piece(p); }, &value);
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
