// libFuzzer target: arbitrary bytes as the manifest CURRENT names (read through a MemEnv,
// as Open and `sightline retention` read it), as one manifest edit record, and as
// CURRENT itself. Must never crash, hang or read out of bounds, and must refuse with
// Corruption (or NotFound) rather than hand back a state the store cannot live with:
// every listed file under its own number, the next file number above every listed one
// (else a new segment would take a live file's name), a state that survives its own
// snapshot.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/mem_env.h"
#include "store/manifest/manifest.h"

namespace {

using namespace sightline;
using store::manifest::FileMeta;
using store::manifest::Manifest;
using store::manifest::ManifestEdit;
using store::manifest::ManifestState;

void CheckState(const ManifestState& st) {
  for (const auto& [number, f] : st.files) {
    if (f.number != number) __builtin_trap();
    if (st.next_file_number <= number) __builtin_trap();
    if (f.format == 0) __builtin_trap();
  }
  // The snapshot the store writes at every Open must read back as the same state.
  std::string rec;
  st.Snapshot().Encode(&rec);
  ManifestEdit e;
  if (!ManifestEdit::Decode(rec, &e).ok()) __builtin_trap();
  ManifestState back;
  if (!back.Apply(e).ok()) __builtin_trap();
  if (back.files != st.files || back.log_number != st.log_number || back.next_file_number != st.next_file_number)
    __builtin_trap();
}

bool Expected(const Status& s) { return s.ok() || s.code() == StatusCode::kCorruption || s.code() == StatusCode::kNotFound; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  {  // the manifest file
    MemEnv env;
    (void)env.CreateDir("/db");
    env.PutFile("/db/CURRENT", "MANIFEST-000003\n");
    env.PutFile("/db/MANIFEST-000003", bytes);
    uint64_t number = 0;
    auto r = Manifest::Read(&env, "/db", &number);
    if (!Expected(r.status())) __builtin_trap();
    if (r.ok()) {
      if (number != 3) __builtin_trap();
      CheckState(*r);
    }
  }
  {  // one edit record, applied to an empty state and to a state holding files 1..3
    ManifestEdit e;
    Status s = ManifestEdit::Decode(bytes, &e);
    if (!Expected(s)) __builtin_trap();
    if (s.ok()) {
      std::string again;
      e.Encode(&again);
      ManifestEdit e2;
      if (!ManifestEdit::Decode(again, &e2).ok()) __builtin_trap();
      if (e2.added != e.added || e2.removed != e.removed || e2.log_number != e.log_number ||
          e2.next_file_number != e.next_file_number)
        __builtin_trap();
      ManifestState empty;
      if (empty.Apply(e).ok()) CheckState(empty);
      ManifestState three;
      for (uint64_t n = 1; n <= 3; ++n) three.files[n] = FileMeta{.number = n};
      three.next_file_number = 4;
      if (three.Apply(e).ok()) CheckState(three);
    }
  }
  {  // CURRENT
    MemEnv env;
    (void)env.CreateDir("/db");
    env.PutFile("/db/CURRENT", bytes);
    auto r = Manifest::Read(&env, "/db");
    if (!Expected(r.status())) __builtin_trap();
  }
  return 0;
}
