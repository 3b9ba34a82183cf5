// Large byte buffers reused between requests.
//
// A request body of a few megabytes, or the encoded batch made from it, put in a fresh
// allocation touches fresh pages: a page fault every 4 KiB, dear on a virtual machine
// (a payload-heavy OTLP request is ~2.8 MB: ~700 faults). A buffer a finished request
// gave back is already mapped. The pool keeps at most max_buffers, each of at most
// max_bytes capacity; anything else is freed as usual.
//
// Thread-safe. Default() is the process's pool (the HTTP server takes request bodies
// from it, the ingest service gives them back once decoded, the store recycles its
// encoded batches through it).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace sightline {

class BufferPool {
 public:
  BufferPool(size_t max_buffers, size_t max_bytes) : max_buffers_(max_buffers), max_bytes_(max_bytes) {}

  static BufferPool* Default();

  // An empty string, with the capacity of a buffer given back when there is one
  // (the largest kept, so a big body does not grow a small buffer).
  std::string Take();
  // Keeps s's storage for a later Take when there is room; s is left empty.
  void Give(std::string&& s);

  size_t kept() const;

 private:
  static constexpr size_t kMinBytes = 64 << 10;  // smaller ones are cheap to allocate fresh
  const size_t max_buffers_, max_bytes_;
  mutable std::mutex mu_;
  std::vector<std::string> free_;  // guarded by mu_; ascending capacity
};

}  // namespace sightline
