// The demo run lives in src/ingest/demo_run.h since the server's POST /api/v1/demo
// (the web UI's "load demo run" button) builds it too; the CLI keeps its names.
#pragma once

#include "ingest/demo_run.h"

namespace sightline::cli {

using ingest::BuildDemoRun;
using ingest::DemoOptions;
using ingest::DemoRun;
using ingest::DemoTrace;

}  // namespace sightline::cli
