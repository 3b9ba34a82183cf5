#include "api/static_files.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/beast/http/field.hpp>

namespace sightline::api {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

constexpr char kIndex[] = "index.html";
constexpr size_t kMinGzipBytes = 1024;

bool IsText(std::string_view type) {
  return type.rfind("text/", 0) == 0 || type.find("javascript") != std::string_view::npos ||
         type.find("json") != std::string_view::npos || type.find("svg") != std::string_view::npos;
}

// gzip (RFC 1952) of data; empty on failure or when it does not pay.
std::string Gzip(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END || n >= data.size()) return {};
  out.resize(n);
  return out;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  // Good enough for browsers: they send "gzip, deflate, br" and never "gzip;q=0".
  return accept_encoding.find("gzip") != std::string_view::npos &&
         accept_encoding.find("gzip;q=0") == std::string_view::npos;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view name) {
  auto dot = name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

Result<std::unique_ptr<StaticFiles>> StaticFiles::Load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("web UI folder " + dir + " does not exist");
  if (!fs::is_regular_file(fs::path(dir) / kIndex, ec))
    return Status::NotFound("web UI folder " + dir + " has no index.html (run scripts/build-ui.sh)");
  std::unique_ptr<StaticFiles> out(new StaticFiles());
  out->dir_ = dir;
  size_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IOError("web UI folder " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IOError("web UI folder " + dir + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || rel.empty() || rel[0] == '.') continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    if (!in.good() && !in.eof()) return Status::IOError("cannot read " + it->path().string());
    File f;
    f.body = buf.str();
    total += f.body.size();
    if (total > kMaxTotalBytes)
      return Status::InvalidArgument("web UI folder " + dir + " holds more than 64 MiB: is it the right folder?");
    f.content_type = std::string(ContentTypeFor(rel));
    f.immutable = rel.rfind("assets/", 0) == 0;
    if (IsText(f.content_type) && f.body.size() >= kMinGzipBytes) f.gzip = Gzip(f.body);
    out->files_.emplace(std::move(rel), std::move(f));
  }
  return out;
}

HttpResponse StaticFiles::Answer(const File& f, std::string_view accept_encoding) const {
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, f.content_type);
  res.set(http::field::cache_control, f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  if (!f.gzip.empty()) {
    res.set(http::field::vary, "Accept-Encoding");
    if (AcceptsGzip(accept_encoding)) {
      res.set(http::field::content_encoding, "gzip");
      res.body() = f.gzip;
      return res;
    }
  }
  res.body() = f.body;
  return res;
}

HttpResponse StaticFiles::Serve(const std::vector<std::string>& segments, std::string_view accept_encoding) const {
  std::string path;
  for (const auto& s : segments) {
    if (!path.empty()) path += '/';
    path += s;
  }
  if (auto it = files_.find(path); it != files_.end() && !path.empty()) return Answer(it->second, accept_encoding);
  // A missing build file (stale hash, typo, /favicon.ico) is a 404, not the app: a
  // script tag that receives HTML fails in confusing ways. App paths such as
  // /sessions/ticket.9421 may hold dots, so only top-level names count as files.
  bool looks_like_file = !segments.empty() && (segments[0] == "assets" ||
                                               (segments.size() == 1 && segments[0].find('.') != std::string::npos));
  if (looks_like_file && path != kIndex) {
    HttpResponse res{http::status::not_found, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "not found: /" + path + "\n";
    return res;
  }
  return Answer(files_.find(kIndex)->second, accept_encoding);
}

}  // namespace sightline::api
