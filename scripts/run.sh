#!/usr/bin/env bash
# `make run`: starts `sightline serve` on the embedded store at http://127.0.0.1:4318
# and loads the demo run once the server is ready, so a newcomer sees something.
set -euo pipefail
BIN=${1:-build/sightline}
DATA=${2:-./sightline-data}
HTTP=${SIGHTLINE_HTTP:-127.0.0.1:4318}
GRPC=${SIGHTLINE_GRPC:-127.0.0.1:4317}

"$BIN" serve --http "$HTTP" --grpc "$GRPC" --data "$DATA" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://$HTTP/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then wait $pid; exit $?; fi
  sleep 0.1
done

"$BIN" demo --server "http://$HTTP" || echo "make run: the demo run could not be loaded" >&2
cat <<TXT

Sightline is running: http://$HTTP  (OTLP/gRPC on $GRPC, data in $DATA)
Point any OpenTelemetry SDK here:
  export OTEL_EXPORTER_OTLP_ENDPOINT=http://$HTTP
  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
Then:  build/sightline traces      build/sightline trace ID      build/sightline session ticket-9421
Ctrl-C stops the server (it flushes and syncs first).
TXT
wait $pid
