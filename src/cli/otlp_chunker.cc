#include "cli/otlp_chunker.h"

#include <algorithm>

namespace sightline::cli {

OtlpChunker::OtlpChunker(size_t max_spans, size_t max_bytes, Emit emit)
    : max_spans_(std::max<size_t>(1, max_spans)), max_bytes_(std::max<size_t>(1024, max_bytes)), emit_(std::move(emit)) {}

Status OtlpChunker::Flush() {
  if (current_spans_ == 0) return Status::OK();
  ingest::ExportRequest out;
  out.Swap(&current_);
  current_spans_ = 0;
  current_bytes_ = 0;
  return emit_(std::move(out));
}

Status OtlpChunker::Add(ingest::ExportRequest* request) {
  for (auto& rs : *request->mutable_resource_spans()) {
    size_t resource_bytes = rs.resource().ByteSizeLong() + 16;
    for (auto& ss : *rs.mutable_scope_spans()) {
      size_t scope_bytes = ss.scope().ByteSizeLong() + 16;
      // Where this (resource, scope) pair lives in the current chunk; -1: not yet.
      int rs_index = -1, ss_index = -1;
      for (auto& span : *ss.mutable_spans()) {
        size_t span_bytes = span.ByteSizeLong() + 8;
        bool needs_header = rs_index < 0;
        size_t add = span_bytes + (needs_header ? resource_bytes + scope_bytes : 0);
        if (current_spans_ > 0 && (current_spans_ + 1 > max_spans_ || current_bytes_ + add > max_bytes_)) {
          SL_RETURN_IF_ERROR(Flush());
          rs_index = ss_index = -1;
          add = span_bytes + resource_bytes + scope_bytes;
        }
        if (rs_index < 0) {
          auto* out_rs = current_.add_resource_spans();
          *out_rs->mutable_resource() = rs.resource();
          out_rs->set_schema_url(rs.schema_url());
          auto* out_ss = out_rs->add_scope_spans();
          *out_ss->mutable_scope() = ss.scope();
          out_ss->set_schema_url(ss.schema_url());
          rs_index = current_.resource_spans_size() - 1;
          ss_index = 0;
        }
        auto* out_ss = current_.mutable_resource_spans(rs_index)->mutable_scope_spans(ss_index);
        out_ss->add_spans()->Swap(&span);
        ++current_spans_;
        ++spans_added_;
        current_bytes_ += add;
      }
    }
  }
  request->Clear();
  return Status::OK();
}

}  // namespace sightline::cli
