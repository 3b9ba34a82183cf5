// The demo run that `sightline demo` and POST /api/v1/demo send: a realistic
// multi-agent support conversation, built as OTLP requests (OTel GenAI attributes,
// and the plain agent schema for some fields). Pure: building a run touches no
// network, so its structure is tested.
//
// Session "ticket-9421" (user "user_92") has two turns, one trace each:
//  1. invoke_agent support-orchestrator plans with a chat call (system prompt, user
//     question, an assistant tool call), hands off to knowledge-agent (a retrieval
//     with documents and scores, a chat call) and billing-resolver (chat, a
//     lookup_invoice call that times out — ERROR, error.type, an exception event
//     with a stacktrace — and its successful retry, chat, then issue_refund stopped
//     for approval: status=interrupt, interrupt.reason=approval_required).
//  2. after approval: billing-resolver issues the refund and the orchestrator answers.
// Spans are split into requests so children arrive before their parents, the root last.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ingest/otlp_decode.h"

namespace sightline::ingest {

struct DemoOptions {
  int sessions = 1;      // session 0 is ticket-9421; more get their own ids and users
  int64_t now_ns = 0;    // the run ends shortly before this
  uint64_t seed = 1;     // trace and span ids
};

struct DemoTrace {
  std::string trace_id;  // hex
  std::string session_id;
  std::string root_name;
};

struct DemoRun {
  std::vector<ingest::ExportRequest> requests;  // in send order
  std::vector<DemoTrace> traces;                // per session: turn 1, then turn 2
};

DemoRun BuildDemoRun(const DemoOptions& options);

}  // namespace sightline::ingest
