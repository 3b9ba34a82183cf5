// A canonical payload that repeats one of the span's attributes, kept once in the
// store's records.
//
// A model call's span carries its history twice: the gen_ai.input.messages attribute
// as the client sent it, and the canonical input made from it, which is the system
// message followed by the attribute's elements, byte for byte when the client wrote
// them in canonical form (text messages as OpenTelemetry's GenAI instrumentations write
// them; a tool response part is renamed, so such a history is not shared). Before a span
// is serialized into a WAL record, SharePayloads cuts input_json down to what comes
// before the attribute's elements (span.proto: input_head, input_tail_key), so the
// history is serialized, written, synced and held in the memtable once. Every reader
// of the records puts the payload back together: ResolvePayloads for a parsed span,
// JoinShared for one read from its bytes; the flush gives the segment the whole
// payload's piece list (columnar/block_codec.cc), so columnar segments, the API and
// exports never see the record form. A row (v1) segment, the flush's fallback for
// spans a columnar file cannot hold, keeps the record's bytes; its readers resolve them
// as the memtable's do.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "model/span.h"

namespace sightline::store {

// An attribute is looked at only when its string value is at least this long: shorter
// ones save less than the key costs.
inline constexpr size_t kMinSharedBytes = 128;

// Moves the part of input_json (output_json) that repeats a string attribute into the
// record form: when the payload ends with value[1:] of the first attribute with that
// key, the payload is cut to the bytes before them (kept in input_head, input_json left
// empty) and input_tail_key names the attribute. A span already in the record form, or
// with no such attribute, is left as it is. Returns how many payloads were shared.
int SharePayloads(model::Span* span);

// The other way, for a span parsed from a record: input_json = input_head + value[1:]
// of the first attribute named input_tail_key (the same for output), and the record
// fields cleared. A span that is not in the record form is left as it is. False when a
// named attribute is missing or not a string (the payload is then left empty).
bool ResolvePayloads(model::Span* span);

// Parses a span from a record's bytes (the memtable's, or a row segment's) and resolves
// its payloads. False when the bytes do not parse. payloads = false: the caller reads
// neither input nor output, so they are left in the record form (no copy of the history).
bool ParseStoredSpan(std::string_view bytes, model::Span* span, bool payloads = true);

// head + attr_value[1:] into *out (attr_value not empty).
void JoinShared(std::string_view head, std::string_view attr_value, std::string* out);

}  // namespace sightline::store
