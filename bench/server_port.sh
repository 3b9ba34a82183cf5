# Sourced by the bench scripts: wait_for_port LOG TRIES prints the HTTP port that
# `sightline serve --http 127.0.0.1:0` logged in LOG, polling every 0.1 s for TRIES
# tries; returns 1 (printing nothing) when it never did.
wait_for_port() {
  local log=$1 tries=$2 port=
  for _ in $(seq 1 "$tries"); do
    port=$(sed -n 's/.*listening http=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}
