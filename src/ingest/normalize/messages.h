// The canonical message builder: every convention's way of carrying prompts and
// completions (OTel GenAI role/parts JSON, OpenAI-style chat payloads, Anthropic content
// blocks, OpenInference and Traceloop flattened attributes, the deprecated message
// events) becomes one form, written as JSON:
//
//   [{"role":"system|user|assistant|tool", "name"?, "finish_reason"?,
//     "parts":[{"type":"text","content":...},
//              {"type":"tool_call","id","name","arguments":<JSON value or string>},
//              {"type":"tool_result","id","result":<JSON value or string>},
//              {"type":"reasoning","content":...},
//              {"type":<other>, ...the sender's fields}]}]
//
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/normalize/json_out.h"

namespace sightline::ingest::norm {

// Text a Part owns, or borrows from a parsed document. Borrowing spares copying long
// message texts twice (into the Part, then into the output). A borrowed view points
// into the thread's JSON scratch pool, which the JsonOut that builds and writes the
// messages keeps alive (json_out.h); so borrow only text of a document parsed while
// that JsonOut exists, and write the messages with it.
class PartText {
 public:
  std::string_view view() const { return borrowed_ ? ref_ : std::string_view(owned_); }
  operator std::string_view() const { return view(); }
  bool empty() const { return view().empty(); }
  void assign(std::string_view s) {
    owned_.assign(s.data(), s.size());
    borrowed_ = false;
  }
  void borrow(std::string_view s) {
    ref_ = s;
    borrowed_ = true;
    owned_.clear();
  }
  PartText& operator=(std::string s) {
    owned_ = std::move(s);
    borrowed_ = false;
    return *this;
  }

 private:
  std::string owned_;
  std::string_view ref_;
  bool borrowed_ = false;
};

struct Part {
  std::string type;     // text, tool_call, tool_result, reasoning, or the sender's own
  PartText content;     // text, reasoning
  std::string id;       // tool_call, tool_result
  std::string name;     // tool_call
  // arguments (tool_call) / result (tool_result). value_json: value is JSON text to write
  // verbatim; otherwise value is text written as its JSON value when it parses, else as a
  // string.
  PartText value;
  bool has_value = false;
  bool value_json = false;
  std::string verbatim;  // other types: the whole part as JSON object text
};

struct Message {
  std::string role;
  std::string name;
  std::string finish_reason;
  std::vector<Part> parts;
};

// "developer" -> system, "human" -> user, "ai"/"model" -> assistant, "function" ->
// tool; anything else lowercased as is.
std::string NormalizeRole(std::string_view role);

// Builds messages from a parsed JSON value, when it is chat-shaped: an array of message
// objects; {"messages":[...]} (a chat request); {"choices":[...]} (a chat response);
// a single message object ({"role":..} with content/parts/tool_calls) or a choice
// ({"message":{..},"finish_reason":..}). output: role defaults to assistant. Returns
// false (out untouched) when the value is not chat-shaped. v must belong to a
// ScratchDocument, and the messages be written with ctx: their parts borrow its text.
bool MessagesFromJson(const rapidjson::Value& v, bool output, JsonOut* ctx,
                      std::vector<Message>* out);
// One message object (see above); false when v is not an object.
bool MessageFromJson(const rapidjson::Value& v, bool output, JsonOut* ctx, Message* out);
// Parts from a JSON array of OTel / OpenAI / Anthropic content parts, or a string.
void PartsFromJson(const rapidjson::Value& v, JsonOut* ctx, std::vector<Part>* out);
Part TextPart(std::string_view text);
// A text part borrowing text (see PartText).
Part TextRef(std::string_view text);

// Writes messages as the canonical JSON array.
void WriteMessages(const std::vector<Message>& messages, JsonOut* out);

// True when json is a non-empty array of text-only messages exactly as WriteMessages
// writes them: each element {"role":R,"parts":[P, ...]} with R one of system, user,
// assistant, tool and each P {"type":"text","content":C}, C escaped as the writer
// escapes (no other escape, no raw control character) and at most max_string_bytes
// long. Parsing json and writing its messages would then give json's bytes again.
bool IsCanonicalTextHistory(std::string_view json, size_t max_string_bytes);

// The canonical form of an array of messages, element by element, without the
// brackets (*body: the elements joined by ","): an element that is a canonical text
// message (above) is taken as it came, any other is parsed alone and written. What
// parsing the whole array and writing its messages gives, at the cost of the elements
// that are not text: OTel GenAI's gen_ai.input.messages is mostly text messages, with a
// tool call or a tool response here and there. False (body unspecified) when json is
// not exactly "[e,e,...]" (no whitespace between elements) or an element is not a
// message object that parses: the caller then takes the whole parse.
bool CanonicalHistoryBody(std::string_view json, JsonOut* out, std::string* body);

// Collects flattened messages ("<prefix>N.<field>") in index order: OpenInference's
// llm.input_messages.N.message.* and Traceloop's gen_ai.prompt.N.*.
class FlatMessages {
 public:
  // One message under construction.
  struct Slot {
    Message msg;
    std::string content;
    bool has_content = false;
    std::string tool_call_id;    // a tool message's answer id
    std::map<int, Part> contents;    // contents.M (typed content parts)
    std::map<int, Part> tool_calls;  // tool_calls.M
  };
  // The slot for index n (created on first use); nullptr when n is unreasonable.
  Slot* At(int n);
  bool empty() const { return slots_.empty(); }
  // The messages in index order; a tool message's content becomes a tool_result part.
  // Output messages default to role assistant, input ones to user.
  std::vector<Message> Finish(bool output, JsonOut* ctx);

 private:
  std::map<int, Slot> slots_;
};

// Splits "12.rest" into 12 and "rest"; -1 when key does not start with an index.
int SplitIndex(std::string_view key, std::string_view* rest);

}  // namespace sightline::ingest::norm
