// Thread names (Linux: 15 bytes at most, longer names are cut), so that
// `top -H`, `ps -L`, perf's per-thread reports and gdb show which of Sightline's threads
// spends the CPU: sl-http, sl-writer, sl-flush, sl-compact, sl-audit. A thread started
// without a name keeps its creator's (Linux copies it).
#pragma once

#include <pthread.h>

#include <cstring>
#include <string>
#include <thread>

namespace sightline {

// Names a thread; its creator calls this right after starting it, so the name is set
// when the constructor's caller goes on (a name set by the thread itself would come
// whenever it first runs).
inline void NameThread(std::thread& t, const char* name) {
  char cut[16];
  std::strncpy(cut, name, sizeof(cut) - 1);
  cut[sizeof(cut) - 1] = '\0';
  (void)pthread_setname_np(t.native_handle(), cut);
}

// The calling thread's name, or "" when it cannot be read.
inline std::string ThreadName() {
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) return "";
  return name;
}

}  // namespace sightline
