// The parts of a normalised request's spans that the store can write from the bytes
// they were received in (store/span_codec.h, ReceivedParts): for each accepted span
// whose attributes, events and links normalisation left as they came, their bytes in
// the walked request; the same for its resource's and scope's attributes.
//
// Thread-safety: a pure function; the result points into the request's body.
#pragma once

#include <vector>

#include "ingest/normalize/normalize.h"
#include "ingest/otlp_walk.h"
#include "store/span_codec.h"

namespace sightline::ingest {

// received: NormalizeResult::received of the request view was walked from.
store::ReceivedParts ReceivedPartsOf(const RequestView& view, const std::vector<ReceivedSpan>& received);

}  // namespace sightline::ingest
