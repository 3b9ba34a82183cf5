#include "ingest/normalize/messages.h"

#include <charconv>
#include <cstring>

#include "store/columnar/payload_codec.h"

namespace sightline::ingest::norm {
namespace {

std::string_view Str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Stores a tool call's arguments or a tool result: text is kept as text (written as its
// JSON value when it parses), structured values as JSON.
void SetValue(Part* p, const rapidjson::Value* v, JsonOut* ctx) {
  if (v == nullptr) return;
  p->has_value = true;
  if (v->IsString()) {
    p->value.borrow(Str(*v));
    p->value_json = false;
  } else {
    p->value = ValueToJson(*v, ctx->max_string_bytes(), ctx->truncated_counter());
    p->value_json = true;
  }
}

std::string_view FirstString(const rapidjson::Value& obj, const char* a, const char* b,
                             const char* c = nullptr) {
  std::string_view s = MemberString(obj, a);
  if (s.empty()) s = MemberString(obj, b);
  if (s.empty() && c != nullptr) s = MemberString(obj, c);
  return s;
}

const rapidjson::Value* FirstMember(const rapidjson::Value& obj, const char* a, const char* b,
                                    const char* c = nullptr) {
  const rapidjson::Value* v = Member(obj, a);
  if (v == nullptr) v = Member(obj, b);
  if (v == nullptr && c != nullptr) v = Member(obj, c);
  return v;
}

// A text given as a string or as nested parts ({"content":[{"type":"text",...}]}).
std::string TextOf(const rapidjson::Value* v) {
  if (v == nullptr) return {};
  if (v->IsString()) return std::string(Str(*v));
  std::string out;
  if (v->IsArray()) {
    for (const auto& e : v->GetArray()) {
      std::string_view t = e.IsString() ? Str(e) : FirstString(e, "text", "content");
      if (t.empty()) continue;
      if (!out.empty()) out.push_back('\n');
      out.append(t);
    }
  }
  return out;
}

Part ToolCallFrom(const rapidjson::Value& call, JsonOut* ctx) {
  Part p;
  p.type = "tool_call";
  p.id.assign(MemberString(call, "id"));
  const rapidjson::Value* fn = Member(call, "function");
  const rapidjson::Value& src = (fn != nullptr && fn->IsObject()) ? *fn : call;
  p.name.assign(MemberString(src, "name"));
  SetValue(&p, FirstMember(src, "arguments", "input", "args"), ctx);
  return p;
}

void PartFromJson(const rapidjson::Value& e, JsonOut* ctx, std::vector<Part>* out) {
  if (e.IsString()) {
    if (e.GetStringLength() > 0) out->push_back(TextRef(Str(e)));
    return;
  }
  if (!e.IsObject()) return;
  std::string_view type = MemberString(e, "type");
  if (type == "text" || type == "input_text" || type == "output_text" ||
      (type.empty() && (Member(e, "text") != nullptr || Member(e, "content") != nullptr))) {
    const rapidjson::Value* t = FirstMember(e, "content", "text");
    if (t != nullptr && t->IsString()) {
      out->push_back(TextRef(Str(*t)));
      return;
    }
  } else if (type == "tool_call" || type == "tool_use" || type == "function_call") {
    out->push_back(ToolCallFrom(e, ctx));
    if (out->back().id.empty()) out->back().id.assign(MemberString(e, "call_id"));
    return;
  } else if (type == "tool_call_response" || type == "tool_result" ||
             type == "function_call_output") {
    Part p;
    p.type = "tool_result";
    p.id.assign(FirstString(e, "id", "tool_use_id", "call_id"));
    SetValue(&p, FirstMember(e, "response", "result", type == "function_call_output" ? "output" : "content"), ctx);
    out->push_back(std::move(p));
    return;
  } else if (type == "reasoning" || type == "thinking") {
    Part p;
    p.type = "reasoning";
    p.content = TextOf(FirstMember(e, "content", "thinking", "text"));
    out->push_back(std::move(p));
    return;
  }
  // Anything else (images, blobs, uris, files, refusals): the sender's own shape.
  Part p;
  p.type = type.empty() ? "unknown" : std::string(type);
  p.verbatim = ValueToJson(e, ctx->max_string_bytes(), ctx->truncated_counter());
  out->push_back(std::move(p));
}

bool IsMessageObject(const rapidjson::Value& v) {
  if (!v.IsObject()) return false;
  if (!MemberString(v, "role").empty()) return true;
  const rapidjson::Value* m = Member(v, "message");
  return m != nullptr && m->IsObject();
}

bool AllMessages(const rapidjson::Value& arr) {
  if (!arr.IsArray() || arr.Empty()) return false;
  for (const auto& e : arr.GetArray())
    if (!IsMessageObject(e)) return false;
  return true;
}

}  // namespace

Part TextPart(std::string_view text) {
  Part p;
  p.type = "text";
  p.content.assign(text);
  return p;
}

Part TextRef(std::string_view text) {
  Part p;
  p.type = "text";
  p.content.borrow(text);
  return p;
}

std::string NormalizeRole(std::string_view role) {
  std::string r(role);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (r == "developer") return "system";
  if (r == "human") return "user";
  if (r == "ai" || r == "model" || r == "bot") return "assistant";
  if (r == "function" || r == "ipython") return "tool";
  return r;
}

void PartsFromJson(const rapidjson::Value& v, JsonOut* ctx, std::vector<Part>* out) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) PartFromJson(e, ctx, out);
  } else {
    PartFromJson(v, ctx, out);
  }
}

bool MessageFromJson(const rapidjson::Value& v, bool output, JsonOut* ctx, Message* out) {
  if (!v.IsObject()) return false;
  std::string_view role = MemberString(v, "role");
  const rapidjson::Value* inner = Member(v, "message");
  if (role.empty() && inner != nullptr && inner->IsObject()) {
    // A choice: {"index":0,"finish_reason":"stop","message":{...}}.
    if (!MessageFromJson(*inner, output, ctx, out)) return false;
    std::string_view fr = MemberString(v, "finish_reason");
    if (!fr.empty()) out->finish_reason.assign(fr);
    return true;
  }
  out->role = NormalizeRole(role.empty() ? (output ? "assistant" : "user") : role);
  out->name.assign(MemberString(v, "name"));
  out->finish_reason.assign(FirstString(v, "finish_reason", "stop_reason"));
  std::string_view answer_id = FirstString(v, "tool_call_id", out->role == "tool" ? "id" : "tool_call_id");
  if (const rapidjson::Value* parts = Member(v, "parts")) PartsFromJson(*parts, ctx, &out->parts);
  if (const rapidjson::Value* content = Member(v, "content")) {
    if (out->role == "tool" && !answer_id.empty()) {
      Part p;
      p.type = "tool_result";
      p.id.assign(answer_id);
      SetValue(&p, content, ctx);
      out->parts.push_back(std::move(p));
    } else if (content->IsObject() && Member(*content, "type") == nullptr &&
               Member(*content, "text") == nullptr && Member(*content, "content") == nullptr) {
      Part p;  // structured content with no part shape: keep it as the sender sent it
      p.type = "json";
      p.verbatim = "{\"type\":\"json\",\"content\":" +
                   ValueToJson(*content, ctx->max_string_bytes(), ctx->truncated_counter()) + "}";
      out->parts.push_back(std::move(p));
    } else {
      PartsFromJson(*content, ctx, &out->parts);
    }
  }
  if (const rapidjson::Value* calls = Member(v, "tool_calls"); calls != nullptr && calls->IsArray()) {
    for (const auto& c : calls->GetArray())
      if (c.IsObject()) out->parts.push_back(ToolCallFrom(c, ctx));
  }
  if (const rapidjson::Value* fc = Member(v, "function_call"); fc != nullptr && fc->IsObject())
    out->parts.push_back(ToolCallFrom(*fc, ctx));
  return true;
}

bool MessagesFromJson(const rapidjson::Value& v, bool output, JsonOut* ctx,
                      std::vector<Message>* out) {
  const rapidjson::Value* list = nullptr;
  std::string_view system;
  if (v.IsArray()) {
    list = &v;
  } else if (v.IsObject()) {
    if (const rapidjson::Value* m = FirstMember(v, "messages", "contents"); m != nullptr && AllMessages(*m)) {
      list = m;
      system = MemberString(v, "system");  // Anthropic: the system prompt sits beside messages
    } else if (const rapidjson::Value* c = Member(v, "choices"); c != nullptr && AllMessages(*c)) {
      list = c;
      output = true;
    } else if (IsMessageObject(v) &&
               (Member(v, "content") != nullptr || Member(v, "parts") != nullptr ||
                Member(v, "tool_calls") != nullptr || Member(v, "message") != nullptr)) {
      Message m;
      MessageFromJson(v, output, ctx, &m);
      out->push_back(std::move(m));
      return true;
    }
  }
  if (list == nullptr || !AllMessages(*list)) return false;
  if (!system.empty()) {
    Message m;
    m.role = "system";
    m.parts.push_back(TextPart(system));
    out->push_back(std::move(m));
  }
  for (const auto& e : list->GetArray()) {
    Message m;
    MessageFromJson(e, output, ctx, &m);
    out->push_back(std::move(m));
  }
  return true;
}

void WriteMessages(const std::vector<Message>& messages, JsonOut* out) {
  out->StartArray();
  for (const Message& m : messages) {
    out->StartObject();
    out->Key("role");
    out->String(m.role);
    if (!m.name.empty()) {
      out->Key("name");
      out->String(m.name);
    }
    out->Key("parts");
    out->StartArray();
    for (const Part& p : m.parts) {
      if (!p.verbatim.empty()) {
        out->Raw(p.verbatim);
        continue;
      }
      out->StartObject();
      out->Key("type");
      out->String(p.type);
      if (p.type == "text" || p.type == "reasoning" || !p.content.empty()) {
        out->Key("content");
        out->String(p.content.view());
      }
      if (!p.id.empty()) {
        out->Key("id");
        out->String(p.id);
      }
      if (p.type == "tool_call") {
        out->Key("name");
        out->String(p.name);
      }
      if (p.has_value) {
        out->Key(p.type == "tool_result" ? "result" : "arguments");
        if (p.value_json) out->Raw(p.value.view());
        else out->JsonOrString(p.value.view());
      }
      out->EndObject();
    }
    out->EndArray();
    if (!m.finish_reason.empty()) {
      out->Key("finish_reason");
      out->String(m.finish_reason);
    }
    out->EndObject();
  }
  out->EndArray();
}

namespace {

bool Literal(std::string_view v, size_t* i, std::string_view lit) {
  if (v.compare(*i, lit.size(), lit) != 0) return false;
  *i += lit.size();
  return true;
}

// A JSON string's body from *i (past its opening quote) through its closing quote, as
// JsonOut's writer escapes: '"' and '\\' and \b \t \n \f \r by their short escapes,
// the other control characters as \u00XX in upper-case hex, nothing else escaped.
bool CanonicalStringBody(std::string_view v, size_t* i, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const size_t start = *i;
  for (size_t p = *i;;) {
    p = NextJsonEscape(v, p);
    if (p >= v.size()) return false;
    const char c = v[p];
    if (c == '"') {
      if (p - start > max_bytes) return false;  // the writer would cut it
      *i = p + 1;
      return true;
    }
    if (c != '\\' || p + 1 >= v.size()) return false;  // a raw control character
    switch (v[p + 1]) {
      case '"': case '\\': case 'b': case 't': case 'n': case 'f': case 'r': p += 2; break;
      case 'u': {
        if (p + 6 > v.size() || v[p + 2] != '0' || v[p + 3] != '0') return false;
        const char* h = std::strchr(kHex, v[p + 4]);
        const char* l = std::strchr(kHex, v[p + 5]);
        if (v[p + 4] == '\0' || v[p + 5] == '\0' || h == nullptr || l == nullptr) return false;
        const int code = static_cast<int>(h - kHex) * 16 + static_cast<int>(l - kHex);
        // Only a control character without a short escape is written this way.
        if (code >= 0x20 || code == '\b' || code == '\t' || code == '\n' || code == '\f' || code == '\r')
          return false;
        p += 6;
        break;
      }
      default: return false;  // \/ and \u escapes of other characters are not the writer's
    }
  }
}

// One canonical text message at v[*i]; *i past it when true, unchanged when false.
bool CanonicalTextMessage(std::string_view v, size_t* at, size_t max_bytes) {
  size_t i = *at;
  if (!Literal(v, &i, R"({"role":")")) return false;
  bool role = false;
  for (std::string_view r : {"system", "user", "assistant", "tool"}) {
    if (v.compare(i, r.size(), r) == 0 && i + r.size() < v.size() && v[i + r.size()] == '"') {
      i += r.size() + 1;
      role = true;
      break;
    }
  }
  if (!role || !Literal(v, &i, R"(,"parts":[)")) return false;
  for (;;) {
    if (!Literal(v, &i, R"({"type":"text","content":")") || !CanonicalStringBody(v, &i, max_bytes) ||
        !Literal(v, &i, "}"))
      return false;
    if (Literal(v, &i, "]}")) break;
    if (!Literal(v, &i, ",")) return false;
  }
  *at = i;
  return true;
}

}  // namespace

bool IsCanonicalTextHistory(std::string_view v, size_t max_bytes) {
  if (v.size() < 2 || v.front() != '[' || v.back() != ']') return false;
  size_t i = 1;
  for (;;) {
    if (!CanonicalTextMessage(v, &i, max_bytes)) return false;
    if (i == v.size() - 1) return true;
    if (!Literal(v, &i, ",")) return false;
  }
}

bool CanonicalHistoryBody(std::string_view v, JsonOut* out, std::string* body) {
  body->clear();
  if (v.size() < 3 || v.front() != '[' || v.back() != ']') return false;
  // A history given up on halfway goes to the whole parse, which counts its cuts again.
  int64_t* cuts = out->truncated_counter();
  const int64_t cuts_before = cuts != nullptr ? *cuts : 0;
  auto give_up = [&] {
    if (cuts != nullptr) *cuts = cuts_before;
    return false;
  };
  std::string wrapped;
  std::vector<Message> one(1);
  for (size_t i = 1;;) {
    const size_t start = i;
    if (CanonicalTextMessage(v, &i, out->max_string_bytes())) {
      body->append(v.substr(start, i - start));
    } else {
      // Parsed inside brackets, so it nests as deep as it does in the array.
      const size_t end = store::columnar::SkipJsonValue(v, start);
      if (end == std::string_view::npos || end >= v.size()) return give_up();
      wrapped.assign("[").append(v.substr(start, end - start)).push_back(']');
      ScratchDocument doc;
      if (!ParseJson(wrapped, &doc) || !doc.IsArray() || doc.Size() != 1 || !IsMessageObject(doc[0]))
        return give_up();
      one[0] = Message();
      MessageFromJson(doc[0], false, out, &one[0]);
      WriteMessages(one, out);
      const std::string w = out->Take();  // [message]
      body->append(w, 1, w.size() - 2);
      i = end;
    }
    if (i == v.size() - 1) return true;
    if (v[i] != ',') return give_up();
    body->push_back(',');
    ++i;
  }
}

int SplitIndex(std::string_view key, std::string_view* rest) {
  int n = 0;
  auto r = std::from_chars(key.data(), key.data() + key.size(), n);
  if (r.ec != std::errc() || r.ptr == key.data() || n < 0) return -1;
  size_t used = static_cast<size_t>(r.ptr - key.data());
  if (used < key.size() && key[used] != '.') return -1;
  *rest = used < key.size() ? key.substr(used + 1) : std::string_view();
  return n;
}

FlatMessages::Slot* FlatMessages::At(int n) {
  // Bounds keep a hostile index ("llm.input_messages.999999999") from costing memory.
  if (n < 0 || n > 1'000'000 || (slots_.size() >= 10'000 && !slots_.contains(n))) return nullptr;
  return &slots_[n];
}

std::vector<Message> FlatMessages::Finish(bool output, JsonOut* ctx) {
  std::vector<Message> out;
  out.reserve(slots_.size());
  for (auto& [n, s] : slots_) {
    Message m = std::move(s.msg);
    m.role = NormalizeRole(m.role.empty() ? (output ? "assistant" : "user") : m.role);
    if (s.has_content) {
      if (m.role == "tool" && !s.tool_call_id.empty()) {
        Part p;
        p.type = "tool_result";
        p.id = s.tool_call_id;
        p.value = std::move(s.content);
        p.has_value = true;
        m.parts.push_back(std::move(p));
      } else {
        // Traceloop writes multimodal content as a JSON array of typed parts.
        ScratchDocument doc;
        bool parts = false;
        if (LooksLikeJsonContainer(s.content) && ParseJson(s.content, &doc) && doc.IsArray() &&
            !doc.Empty()) {
          parts = true;
          for (const auto& e : doc.GetArray())
            if (!e.IsObject() || MemberString(e, "type").empty()) parts = false;
        }
        if (parts) PartsFromJson(doc, ctx, &m.parts);
        else m.parts.push_back(TextPart(s.content));  // s is cleared below: a copy
      }
    }
    for (auto& [i, p] : s.contents) m.parts.push_back(std::move(p));
    for (auto& [i, p] : s.tool_calls) m.parts.push_back(std::move(p));
    out.push_back(std::move(m));
  }
  slots_.clear();
  return out;
}

}  // namespace sightline::ingest::norm
