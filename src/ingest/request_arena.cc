#include "ingest/request_arena.h"

#include <memory>

namespace sightline::ingest {
namespace {

// 2 MiB holds the messages of a 500-span batch of agent spans with room to spare (about
// 1 MiB measured on the benchmark's lean and payload batches alike: string bytes live
// on the heap either way).
constexpr size_t kThreadBufferBytes = 2u << 20;

struct ThreadBuffer {
  std::unique_ptr<char[]> bytes{new char[kThreadBufferBytes]};
  bool in_use = false;
};

ThreadBuffer& ThisThreadBuffer() {
  thread_local ThreadBuffer buffer;
  return buffer;
}

google::protobuf::ArenaOptions Options(bool use_thread_buffer) {
  google::protobuf::ArenaOptions o;
  o.start_block_size = 64u << 10;
  o.max_block_size = 1u << 20;
  if (use_thread_buffer) {
    o.initial_block = ThisThreadBuffer().bytes.get();
    o.initial_block_size = kThreadBufferBytes;
  }
  return o;
}

bool ClaimThreadBuffer() {
  ThreadBuffer& b = ThisThreadBuffer();
  if (b.in_use) return false;
  b.in_use = true;
  return true;
}

}  // namespace

RequestArena::RequestArena() : owns_thread_buffer_(ClaimThreadBuffer()), arena_(Options(owns_thread_buffer_)) {}

RequestArena::~RequestArena() {
  arena_.Reset();  // runs destructors and frees blocks before the buffer is handed on
  if (owns_thread_buffer_) ThisThreadBuffer().in_use = false;
}

ExportRequest* RequestArena::NewRequest() { return google::protobuf::Arena::CreateMessage<ExportRequest>(&arena_); }

}  // namespace sightline::ingest
