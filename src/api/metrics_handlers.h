// The metrics API (docs/api.md "Metrics"): GET /api/v1/metrics/{overview, timeseries,
// distribution, top}. Each endpoint validates its parameters (the trace-search filters
// of query_params.h plus its own), turns them into one or two backend-neutral
// AggregateQuery's, and renders the rows as JSON. Runs on the router's query pool.
//
// Thread-safety: a pure function of its arguments; the store is thread-safe.
#pragma once

#include <string>

#include "api/http_server.h"
#include "api/query_params.h"
#include "auth/authenticator.h"
#include "store/span_store.h"

namespace sightline::api {

// endpoint: the last path segment ("overview", ...). Unknown endpoints answer 404,
// bad parameters 400 naming the parameter. Every figure covers only the projects
// caller may read (auth::ScopeProjects).
void HandleMetricsRequest(store::SpanStore* store, const std::string& endpoint, const QueryParams& params,
                          const auth::Principal& caller, const Responder& respond);

}  // namespace sightline::api
