// StaticFiles: the built web UI (Vite's index.html and hashed assets/), read into
// memory once at start-up and served from there. Paths under /assets/ (and any other
// file of the build, such as a favicon) answer with their file; every other app path
// (/, /traces/ID, /sessions/ID, ...) answers with index.html, so deep links survive a
// reload and the browser-side router takes over.
//
// Serving never touches the disk, so a request path cannot reach a file outside the
// UI folder: lookups are exact matches against the loaded names. Text files are also
// kept gzip-compressed and sent so to browsers that accept it. Hashed assets are
// cacheable forever; index.html must be revalidated so a new build is picked up.
//
// Invariants: immutable after Load; `files_` holds index.html.
// Thread-safety: const after construction; Serve may run concurrently.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.h"
#include "common/status.h"

namespace sightline::api {

class StaticFiles {
 public:
  // Upper bound on what Load reads: the UI is a few hundred KiB; a folder far bigger
  // than this is the wrong folder.
  static constexpr size_t kMaxTotalBytes = size_t{64} << 20;

  // Reads every regular file under dir. NotFound when dir or dir/index.html is
  // missing; InvalidArgument when it holds more than kMaxTotalBytes; IOError when a
  // file cannot be read.
  static Result<std::unique_ptr<StaticFiles>> Load(const std::string& dir);

  // The answer to GET of `segments` (the decoded path, "/assets/x.js" ->
  // {"assets","x.js"}): the file, or index.html for an app path, or 404 for a missing
  // file under assets/ (a stale hashed name must not be answered with HTML).
  HttpResponse Serve(const std::vector<std::string>& segments, std::string_view accept_encoding) const;

  const std::string& dir() const { return dir_; }
  size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string body;
    std::string gzip;  // empty when not worth compressing
    std::string content_type;
    bool immutable = false;  // under assets/: content-hashed names
  };
  StaticFiles() = default;
  HttpResponse Answer(const File& f, std::string_view accept_encoding) const;

  std::string dir_;
  std::map<std::string, File, std::less<>> files_;  // "index.html", "assets/index-abc.js"
};

// Content type for a file name by its extension ("application/octet-stream" if unknown).
std::string_view ContentTypeFor(std::string_view name);

}  // namespace sightline::api
