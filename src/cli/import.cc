// `sightline import FILE`: OTLP JSON (one ExportTraceServiceRequest per line, as
// `export` writes, or one whole document), OTLP protobuf, either optionally gzipped,
// re-chunked and POSTed to /v1/traces with retries.
#include <cstdio>
#include <cstring>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/client_common.h"
#include "cli/otlp_chunker.h"
#include "cli/otlp_sender.h"
#include "cli/progress.h"
#include "cli/terminal.h"

namespace sightline::cli {
namespace {

struct ImportArgs {
  std::string file;
  size_t batch_spans = 1000;
  double batch_mib = 4;
  bool gzip = false;
  std::string project;
};

struct ImportStats {
  int64_t spans_sent = 0, accepted = 0, rejected = 0, requests = 0, bad_lines = 0;
  std::string first_error;
  void Note(const std::string& e) {
    if (first_error.empty()) first_error = e;
  }
};

constexpr size_t kMaxWholeFile = size_t{2} << 30;  // a whole document or protobuf file

Result<std::string> ReadAll(std::FILE* f, const std::string& name) {
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.append(buf, n);
    if (data.size() > kMaxWholeFile) return Status::TooLarge(name + ": larger than 2 GiB; split it into JSON Lines");
  }
  if (std::ferror(f)) return Status::IOError(name + ": read error: " + std::strerror(errno));
  return data;
}

// Lines of a file or of a buffer.
class LineReader {
 public:
  explicit LineReader(std::FILE* f) : f_(f) {}
  explicit LineReader(std::string data) : data_(std::move(data)) {}
  ~LineReader() { std::free(line_); }
  bool Next(std::string_view* line) {
    if (f_ != nullptr) {
      ssize_t n = getline(&line_, &cap_, f_);
      if (n < 0) return false;
      consumed_ += static_cast<int64_t>(n);
      *line = std::string_view(line_, static_cast<size_t>(n));
      return true;
    }
    if (pos_ >= data_.size()) return false;
    size_t end = data_.find('\n', pos_);
    if (end == std::string::npos) end = data_.size();
    *line = std::string_view(data_).substr(pos_, end - pos_);
    consumed_ += static_cast<int64_t>(end - pos_ + 1);
    pos_ = end + 1;
    return true;
  }
  int64_t consumed() const { return consumed_; }

 private:
  std::FILE* f_ = nullptr;
  std::string data_;
  size_t pos_ = 0;
  char* line_ = nullptr;
  size_t cap_ = 0;
  int64_t consumed_ = 0;
};

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// The first line is a JSON document of its own: the file is JSON Lines.
bool LooksLikeJsonLines(std::string_view head) {
  size_t nl = head.find('\n');
  std::string_view first = head.substr(0, nl);
  if (nl == std::string_view::npos && head.size() >= 65536) return true;  // one very long line: try as lines
  rapidjson::Document d;
  d.Parse(first.data(), first.size());
  return !d.HasParseError() && d.IsObject();
}

void RunImport(CommandContext& ctx, const ImportArgs& a) {
  if (a.batch_spans < 1 || a.batch_spans > 100000)
    return ReportUsageError(ctx, "import", Status::InvalidArgument("--batch-spans must be between 1 and 100000"));
  if (!(a.batch_mib > 0.01 && a.batch_mib <= 64))
    return ReportUsageError(ctx, "import", Status::InvalidArgument("--batch-mib must be between 0.01 and 64"));
  auto client = MakeClient(ctx);
  if (!client.ok()) return ReportUsageError(ctx, "import", client.status());

  bool is_stdin = a.file == "-";
  std::FILE* f = is_stdin ? stdin : std::fopen(a.file.c_str(), "rb");
  if (f == nullptr) return ReportFailure(ctx, "import", Status::IOError(a.file + ": " + std::strerror(errno)));
  struct Closer {
    std::FILE* f;
    bool own;
    ~Closer() {
      if (own) std::fclose(f);
    }
  } closer{f, !is_stdin};
  int64_t total = 0;
  if (!is_stdin && std::fseek(f, 0, SEEK_END) == 0) {
    total = std::ftell(f);
    std::rewind(f);
  }

  ImportStats stats;
  SendOptions send;
  send.gzip = a.gzip;
  send.project = a.project;
  Progress progress("import", total, IsTerminal(stderr) && !ctx.json);
  Status failure;
  OtlpChunker chunker(a.batch_spans, static_cast<size_t>(a.batch_mib * 1024 * 1024),
                      [&](ingest::ExportRequest&& req) -> Status {
                        SendResult r;
                        Status st = SendOtlp(**client, req, send, &r);
                        if (!st.ok()) return st;
                        ++stats.requests;
                        stats.spans_sent += r.sent_spans;
                        stats.rejected += r.rejected_spans;
                        stats.accepted += r.sent_spans - r.rejected_spans;
                        if (!r.error_message.empty()) stats.Note("server: " + r.error_message);
                        return Status::OK();
                      });
  ingest::DecodeLimits line_limits;
  auto add_json = [&](std::string_view text, const std::string& where, const ingest::DecodeLimits& limits) -> Status {
    ingest::ExportRequest req;
    ingest::JsonDecodeReport report;
    Status st = ingest::DecodeOtlpJson(text, &req, limits, &report);
    if (!st.ok()) {
      ++stats.bad_lines;
      stats.Note(where + ": " + st.message());
      return Status::OK();  // skip it; the rest of the file still imports
    }
    if (report.rejected_spans > 0) {
      stats.rejected += report.rejected_spans;
      stats.Note(where + ": " + report.first_errors);
    }
    return chunker.Add(&req);
  };

  // Peek at the start to choose the format.
  std::string head(65536, '\0');
  size_t got = std::fread(head.data(), 1, head.size(), f);
  head.resize(got);
  std::string data;  // the whole input, when it is read at once
  bool in_memory = false;
  if (is_stdin) {  // not seekable: read it all
    auto rest = ReadAll(f, a.file);
    if (!rest.ok()) return ReportFailure(ctx, "import", rest.status());
    data = head + *rest;
    in_memory = true;
  }
  std::string_view magic = in_memory ? std::string_view(data) : std::string_view(head);
  if (magic.size() >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
      static_cast<unsigned char>(magic[1]) == 0x8b) {
    if (!in_memory) {
      auto rest = ReadAll(f, a.file);
      if (!rest.ok()) return ReportFailure(ctx, "import", rest.status());
      data = head + *rest;
    }
    auto plain = ingest::GunzipBounded(data, kMaxWholeFile);
    if (!plain.ok()) return ReportFailure(ctx, "import", plain.status().WithContext(a.file));
    data = std::move(plain).value();
    in_memory = true;
    total = static_cast<int64_t>(data.size());
  }
  std::string_view start = in_memory ? std::string_view(data) : std::string_view(head);
  size_t first = start.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return ReportFailure(ctx, "import", Status::InvalidArgument(a.file + ": empty"));
  if (start[first] != '{') {
    // OTLP protobuf: one ExportTraceServiceRequest.
    if (!in_memory) {
      auto rest = ReadAll(f, a.file);
      if (!rest.ok()) return ReportFailure(ctx, "import", rest.status());
      data = head + *rest;
    }
    ingest::ExportRequest req;
    Status st = ingest::DecodeOtlpProtobuf(data, &req);
    if (!st.ok())
      return ReportFailure(ctx, "import",
                           st.WithContext(a.file + ": neither OTLP JSON (does not start with '{') nor OTLP protobuf"));
    failure = chunker.Add(&req);
    progress.Update(total, chunker.spans_added());
  } else if (LooksLikeJsonLines(start.substr(first))) {
    std::unique_ptr<LineReader> lines;
    if (in_memory) {
      lines = std::make_unique<LineReader>(std::move(data));
    } else {
      std::rewind(f);
      lines = std::make_unique<LineReader>(f);
    }
    std::string_view line;
    int64_t lineno = 0;
    while (failure.ok() && lines->Next(&line)) {
      ++lineno;
      if (IsBlank(line)) continue;
      failure = add_json(line, a.file + ":" + std::to_string(lineno), line_limits);
      progress.Update(lines->consumed(), chunker.spans_added());
    }
  } else {
    if (!in_memory) {
      auto rest = ReadAll(f, a.file);
      if (!rest.ok()) return ReportFailure(ctx, "import", rest.status());
      data = head + *rest;
    }
    ingest::DecodeLimits whole;
    whole.max_body_bytes = kMaxWholeFile;
    failure = add_json(data, a.file, whole);
    progress.Update(total, chunker.spans_added());
  }
  if (failure.ok()) failure = chunker.Flush();
  progress.Finish();
  if (!failure.ok()) {
    std::fprintf(stderr, "sightline import: stopped after %lld accepted spans\n", static_cast<long long>(stats.accepted));
    return ReportFailure(ctx, "import", failure);
  }
  if (ctx.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("file");
    w.String(a.file.c_str());
    w.Key("requests");
    w.Int64(stats.requests);
    w.Key("accepted_spans");
    w.Int64(stats.accepted);
    w.Key("rejected_spans");
    w.Int64(stats.rejected);
    w.Key("bad_lines");
    w.Int64(stats.bad_lines);
    w.Key("first_error");
    w.String(stats.first_error.c_str());
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    std::printf("imported %s into %s: %s spans accepted, %s rejected (%lld requests)\n", a.file.c_str(),
                (*client)->base().ToString().c_str(), FormatCount(stats.accepted).c_str(),
                FormatCount(stats.rejected).c_str(), static_cast<long long>(stats.requests));
  }
  if (stats.bad_lines > 0)
    std::fprintf(stderr, "sightline import: %lld unreadable requests skipped\n", static_cast<long long>(stats.bad_lines));
  if (!stats.first_error.empty()) std::fprintf(stderr, "sightline import: first problem: %s\n", stats.first_error.c_str());
  if (stats.rejected > 0 || stats.bad_lines > 0) ctx.exit_code = 1;
}

}  // namespace

void RegisterImport(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand(
      "import", "Send OTLP traces from a file (JSON Lines as `export` writes, one JSON document, or protobuf; "
                "optionally gzipped) to a server");
  cmd->add_option("FILE", args->file, "File to import ('-' for standard input)")->required();
  cmd->add_option("--batch-spans", args->batch_spans, "Most spans per request (default 1000)");
  cmd->add_option("--batch-mib", args->batch_mib, "Most MiB per request (default 4)");
  cmd->add_flag("--gzip", args->gzip, "Compress request bodies (Content-Encoding: gzip)");
  cmd->add_option("--project", args->project, "Project to import into (x-sightline-project header)");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunImport(ctx, *args); });
}

}  // namespace sightline::cli
