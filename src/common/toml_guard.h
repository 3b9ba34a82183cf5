// A guard in front of toml++ for every TOML file Sightline reads (sightline.toml,
// pricing.toml, redaction.toml, audit.toml).
//
// toml++ 3.x does not refuse some invalid inputs cleanly (found by
// redaction_policy_fuzz): control characters; a table header whose key starts with
// neither a bare-key character nor a quote (`[*x]`), which reaches an assertion; and a
// non-ASCII character where the parser looks for whitespace (outside strings and
// comments, or after a line-ending backslash in a multi-line string), which reaches an
// "unreachable" — release builds turn those into optimiser assumptions. CheckTomlText
// refuses such input first, naming the line. All of it is invalid TOML anyway.
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sightline {

// OK, or InvalidArgument "<origin>:<line>: not valid TOML: <what>". Never quotes the text.
Status CheckTomlText(std::string_view text, const std::string& origin);

// toml++'s error description without anything it quotes from the document (a value may
// be a secret, and errors go to logs): quoted runs become "...".
std::string UnquotedTomlError(std::string_view description);

}  // namespace sightline
