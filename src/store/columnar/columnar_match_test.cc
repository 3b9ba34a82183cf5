// ColumnarReader::MatchRows' text search against the plain scan (each trace read whole,
// its input_json / output_json searched with ContainsIgnoreCase), on generated data that
// fills several payload frames: matches in the first, a middle and the last frame,
// pieces repeated turn after turn (a conversation's history), pieces shared between
// traces and sessions (one system prompt), phrases across the joins of arrays with ","
// and ", ", and over short pieces. Each answer is checked without a memo, with one memo
// shared by calls on two threads (work units) and again over the same memo (a later
// batch, which must not decompress a frame again), and with a damaged frame.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/mem_env.h"
#include "store/columnar/columnar_test_util.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

using namespace testing;  // NOLINT: the columnar test helpers

const std::string kDir = "/match";

// Sessions of PayloadSession (arrays joined with ","), plus traces whose input is an
// array joined with ", " and a tool span with an array of short numbers.
TraceMap Data() {
  TraceMap m;
  for (uint64_t s = 1; s <= 100; ++s) {
    TraceMap one = PayloadSession(s, 24, 1'767'225'600'000'000'000 + static_cast<int64_t>(s) * 1'000'000'000);
    for (auto& [id, spans] : one)
      for (auto& sp : spans) AddToMap(&m, sp);
  }
  for (uint64_t t = 0; t < 40; ++t) {
    const uint64_t trace = 900000 + t;
    const int64_t start = 1'767'300'000'000'000'000 + static_cast<int64_t>(t) * 1'000'000'000;
    model::Span llm = store::testing::MakeSpan({TraceKey::Mix64(trace), TraceKey::Mix64(trace * 10 + 1), 0, "chat",
                                                model::v1::KIND_LLM, model::v1::STATUS_OK, start, start + 100});
    std::string in = "[" + Message("system", "Spaced arrays, shared by every trace of this kind.");
    for (uint64_t k = 0; k <= t % 5; ++k)
      in += ", " + Message(k % 2 ? "assistant" : "user", "spaced " + std::to_string(t) + " part " + std::to_string(k));
    llm.set_input_json(in + "]");
    llm.set_output_json(Message("assistant", "Answer Number " + std::to_string(t)));
    AddToMap(&m, llm);
    model::Span tool = store::testing::MakeSpan({TraceKey::Mix64(trace), TraceKey::Mix64(trace * 10 + 2),
                                                 TraceKey::Mix64(trace * 10 + 1), "tool", model::v1::KIND_TOOL,
                                                 model::v1::STATUS_OK, start + 10, start + 50});
    std::string numbers = "[";
    for (uint64_t i = 10; i < 40; ++i) numbers += (i > 10 ? "," : "") + std::to_string(i + t % 3);
    tool.set_input_json(numbers + "]");
    AddToMap(&m, tool);
  }
  return m;
}

// Each trace read whole (the plain scan's input): its spans' input_json and output_json,
// or nothing when the trace does not read.
struct Plain {
  std::vector<std::vector<std::string>> values;  // per trace
  std::vector<uint8_t> readable;
};
Plain ReadAll(const ColumnarReader& r, const std::vector<TraceEntry>& entries) {
  Plain p;
  p.values.resize(entries.size());
  p.readable.assign(entries.size(), 1);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<std::string> spans;
    if (!r.ReadTrace(entries[i].first_row, entries[i].row_count, &spans).ok()) {
      p.readable[i] = 0;
      continue;
    }
    for (const auto& b : spans) {
      model::Span s;
      EXPECT_TRUE(s.ParseFromString(b));
      p.values[i].push_back(s.input_json());
      p.values[i].push_back(s.output_json());
    }
  }
  return p;
}

// The plain scan's answer for each trace: the rendered values searched.
std::vector<bool> PlainAnswers(const Plain& p, const std::string& needle_lower) {
  std::vector<bool> out(p.values.size(), false);
  for (size_t i = 0; i < p.values.size(); ++i)
    for (const auto& v : p.values[i])
      if (ContainsIgnoreCase(v, needle_lower)) out[i] = true;
  return out;
}

std::vector<RowRange> Ranges(const std::vector<TraceEntry>& entries, size_t from, size_t to) {
  std::vector<RowRange> out;
  for (size_t i = from; i < to; ++i) out.push_back(RowRange{entries[i].first_row, entries[i].row_count});
  return out;
}

// Runs MatchRows over every trace in chunks of `chunk` traces, chunks taken by two
// threads in turn, all with one memo; per trace the text bit, or -1 when unreadable.
std::vector<int> RunUnits(const ColumnarReader& r, const std::vector<TraceEntry>& entries, const RowMatchSpec& spec,
                          TextMemo* memo, size_t chunk) {
  std::vector<int> out(entries.size(), 0);
  auto work = [&](size_t first_chunk) {
    for (size_t from = first_chunk * chunk; from < entries.size(); from += 2 * chunk) {
      const size_t to = std::min(entries.size(), from + chunk);
      std::vector<uint32_t> bits;
      std::vector<uint8_t> unreadable;
      Status s = r.MatchRows(spec, Ranges(entries, from, to), &bits, &unreadable, memo);
      EXPECT_TRUE(s.ok()) << s.ToString();
      for (size_t i = from; i < to; ++i)
        out[i] = unreadable[i - from] ? -1 : (bits[i - from] & RowMatchSpec::kTextBit) ? 1 : 0;
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  return out;
}

// Needles found in the first, a middle and the last payload frame: the "turn S_T:" of a
// user message stored there (one message each), searched in upper case.
std::vector<std::string> FrameNeedles(const ColumnarReader& r) {
  const uint32_t last = static_cast<uint32_t>(r.frames().size() - 1);
  std::map<uint32_t, std::string> found;  // frame -> needle
  EXPECT_TRUE(r.ForEachPiece([&](uint32_t, uint32_t frame, std::string_view bytes) {
                 if (frame != 0 && frame != last / 2 && frame != last) return Status::OK();
                 if (found.count(frame)) return Status::OK();
                 const size_t at = bytes.find(" turn ");
                 if (at == std::string_view::npos) return Status::OK();
                 const size_t colon = bytes.find(':', at);
                 found[frame] = AsciiLower(std::string(bytes.substr(at + 1, colon - at)));
                 return Status::OK();
               }).ok());
  std::vector<std::string> out;
  for (const auto& [frame, needle] : found) {
    std::string upper = needle;
    for (char& c : upper)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out.push_back(upper);
  }
  EXPECT_EQ(out.size(), 3u) << "no user message in the first, middle or last frame";
  return out;
}

TEST(ColumnarMatch, TextSearchAnswersAsThePlainScan) {
  MemEnv env;
  TraceMap m = Data();
  ASSERT_TRUE(WriteSegment(&env, kDir, "text.slseg", m).ok());
  std::vector<TraceEntry> entries;
  auto opened = ColumnarReader::Open(&env, kDir + "/text.slseg", [&](const TraceEntry& e) {
    entries.push_back(e);
    entries.back().agg = {};
    return Status::OK();
  });
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const ColumnarReader& r = **opened;
  ASSERT_GE(r.frames().size(), 5u) << "the data must fill several frames";

  const Plain plain = ReadAll(r, entries);
  std::vector<std::string> needles = FrameNeedles(r);
  for (const char* n : {
           "cite the KNOWLEDGE base",                                       // one piece every planning span names
           "(ticket 7).\"}]}]",                                             // an answer at the end of a history
           "(ticket 7).\"}]},{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"ticket 7 turn 7_3:",  // across a join
           "\"}]}, {\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"spaced 13 part 1",  // ", " join
           " {\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"spaced 9 part 2",  // starts with the space
           "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"spaced",  // the opening bracket
           "13,14,15,16", "12,14", "]", "answer number 3", "look it up", "no trace says this"}) {
    needles.push_back(n);
  }
  size_t some = 0;
  for (const std::string& needle : needles) {
    SCOPED_TRACE(needle);
    RowMatchSpec spec;
    spec.text_lower = AsciiLower(needle);
    const std::vector<bool> want = PlainAnswers(plain, spec.text_lower);
    const size_t hits = static_cast<size_t>(std::count(want.begin(), want.end(), true));
    some += hits > 0 && hits < want.size();

    // One call, no memo.
    std::vector<uint32_t> bits;
    std::vector<uint8_t> unreadable;
    ASSERT_TRUE(r.MatchRows(spec, Ranges(entries, 0, entries.size()), &bits, &unreadable).ok());
    for (size_t i = 0; i < entries.size(); ++i) {
      ASSERT_EQ(unreadable[i], 0) << i;
      EXPECT_EQ((bits[i] & RowMatchSpec::kTextBit) != 0, want[i]) << "trace " << i;
    }

    // Work units on two threads sharing a memo, then a second batch over it.
    std::shared_ptr<TextMemo> memo = r.NewTextMemo(spec.text_lower);
    for (size_t chunk : {37, 300}) {
      std::vector<int> got = RunUnits(r, entries, spec, memo.get(), chunk);
      for (size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(got[i], want[i] ? 1 : 0) << "trace " << i << " chunk " << chunk;
    }
    // Each frame was decompressed at most once, however many units named it.
    EXPECT_LE(memo->frames_loaded(), r.frames().size());
    EXPECT_GT(memo->frames_loaded(), 0u);
  }
  EXPECT_GE(some, 10u) << "most needles must match some traces and not all";

  // A damaged middle frame: ranges naming it are unreadable (in the first call and in
  // later calls over the same memo), every other answer is still the plain scan's.
  auto read = ReadFileToString(&env, kDir + "/text.slseg");
  ASSERT_TRUE(read.ok());
  std::string bytes = *read;
  const auto& frame = r.frames()[r.frames().size() / 2];
  bytes[static_cast<size_t>(frame.offset + frame.stored_len / 2)] ^= 0x10;
  env.PutFile(kDir + "/bad.slseg", bytes);
  auto bad = ColumnarReader::Open(&env, kDir + "/bad.slseg", [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  const Plain damaged = ReadAll(**bad, entries);
  const std::vector<uint8_t>& readable = damaged.readable;
  ASSERT_LT(std::count(readable.begin(), readable.end(), 1), static_cast<long>(entries.size()));
  for (const std::string& needle : needles) {
    SCOPED_TRACE("damaged: " + needle);
    RowMatchSpec spec;
    spec.text_lower = AsciiLower(needle);
    const std::vector<bool> want = PlainAnswers(damaged, spec.text_lower);
    std::shared_ptr<TextMemo> memo = (*bad)->NewTextMemo(spec.text_lower);
    for (size_t chunk : {37, 300}) {
      std::vector<int> got = RunUnits(**bad, entries, spec, memo.get(), chunk);
      for (size_t i = 0; i < entries.size(); ++i) {
        if (!readable[i]) {
          EXPECT_EQ(got[i], -1) << "trace " << i << " names the damaged frame";
        }
        if (got[i] != -1) {
          EXPECT_EQ(got[i], want[i] ? 1 : 0) << "trace " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sightline::store::columnar
