// The effective redaction rules of a compiled policy, per project, for people:
// `sightline redaction check FILE` and GET /api/v1/redaction (docs/redaction.md).
// Never shows a hash key or a custom pattern (either may itself be a secret): rules
// by name and action, attribute key globs by layer, the hash length and where the
// hash key comes from.
//
// Thread-safety: pure functions over an immutable Policy.
#pragma once

#include <string>

#include "pipeline/redaction.h"

namespace sightline::pipeline::redaction {

// {"default": {...}, "projects": {"NAME": {...}}}; each {"rules": [{"name", "kind":
// "detector"|"custom", "class": "credential"|"personal" (detectors), "action"}],
// "attributes": [{"keep":[...], "drop":[...], "mask":[...], "hash":[...]}, ...] (most
// specific layer first), "hash_length", "hash_key": where the key comes from}.
std::string DescribePolicyJson(const Policy& policy);
// The same as indented text.
std::string DescribePolicyText(const Policy& policy);

}  // namespace sightline::pipeline::redaction
