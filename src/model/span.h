// The canonical span (proto/sightline/model/v1/span.proto) and the names the API,
// the CLI and the query parameters use for its enums.
#pragma once

#include <google/protobuf/arena.h>

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "sightline/model/v1/span.pb.h"

namespace sightline::model {

using Span = ::sightline::model::v1::Span;
using SpanBatch = ::sightline::model::v1::SpanBatch;
using SpanKind = ::sightline::model::v1::SpanKind;
using SpanStatus = ::sightline::model::v1::SpanStatus;
using CostSource = ::sightline::model::v1::CostSource;

// "agent", "llm", "tool", ... as in SPEC.
std::string_view KindName(SpanKind kind);
std::optional<SpanKind> ParseKind(std::string_view name);
// "ok", "error", "interrupt", "unset".
std::string_view StatusName(SpanStatus status);
std::optional<SpanStatus> ParseStatus(std::string_view name);
// "reported", "computed", "unknown".
std::string_view CostSourceName(CostSource source);

// The canonical spans of one ingest request, created on the request's protobuf arena
// when one is given (then destroying them is freeing the arena's blocks, not one
// malloc'd object per string and attribute: profiling put that destruction at about a
// tenth of the server's CPU at full ingest), else on the heap and owned here.
// Indexing and iteration give Span&, so it reads like a std::vector<Span>.
// Invariants: the arena, when given, outlives the list. Thread-safety: a plain value.
class SpanList {
 public:
  explicit SpanList(google::protobuf::Arena* arena = nullptr) : arena_(arena) {}
  SpanList(SpanList&& o) noexcept : arena_(o.arena_), spans_(std::move(o.spans_)) { o.spans_.clear(); }
  SpanList& operator=(SpanList&& o) noexcept {
    if (this != &o) {
      Clear();
      arena_ = o.arena_;
      spans_ = std::move(o.spans_);
      o.spans_.clear();
    }
    return *this;
  }
  SpanList(const SpanList&) = delete;
  SpanList& operator=(const SpanList&) = delete;
  ~SpanList() { Clear(); }

  Span& emplace_back() {
    spans_.push_back(google::protobuf::Arena::CreateMessage<Span>(arena_));
    return *spans_.back();
  }
  void reserve(size_t n) { spans_.reserve(n); }
  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  Span& operator[](size_t i) { return *spans_[i]; }
  const Span& operator[](size_t i) const { return *spans_[i]; }
  Span& back() { return *spans_.back(); }
  void Clear() {
    if (arena_ == nullptr)
      for (Span* s : spans_) delete s;
    spans_.clear();
  }
  // The spans as values (moved when on the heap; copied from an arena).
  std::vector<Span> ToVector() && {
    std::vector<Span> out(spans_.size());
    for (size_t i = 0; i < spans_.size(); ++i) {
      if (arena_ == nullptr) {
        out[i].Swap(spans_[i]);
      } else {
        out[i] = *spans_[i];
      }
    }
    Clear();
    return out;
  }
  const std::vector<Span*>& pointers() const { return spans_; }

  template <typename It, typename V>
  class Iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Span;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;
    Iter() = default;
    explicit Iter(It it) : it_(it) {}
    V& operator*() const { return **it_; }
    V* operator->() const { return *it_; }
    Iter& operator++() {
      ++it_;
      return *this;
    }
    Iter operator++(int) {
      Iter before = *this;
      ++it_;
      return before;
    }
    bool operator==(const Iter& o) const { return it_ == o.it_; }
    bool operator!=(const Iter& o) const { return it_ != o.it_; }

   private:
    It it_{};
  };
  using iterator = Iter<std::vector<Span*>::iterator, Span>;
  using const_iterator = Iter<std::vector<Span*>::const_iterator, const Span>;
  iterator begin() { return iterator(spans_.begin()); }
  iterator end() { return iterator(spans_.end()); }
  const_iterator begin() const { return const_iterator(spans_.begin()); }
  const_iterator end() const { return const_iterator(spans_.end()); }

 private:
  google::protobuf::Arena* arena_ = nullptr;
  std::vector<Span*> spans_;
};

inline int64_t DurationNs(const Span& s) { return s.end_ns() > s.start_ns() ? s.end_ns() - s.start_ns() : 0; }

}  // namespace sightline::model
