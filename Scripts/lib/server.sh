# shellcheck shell=bash
# One way for the scripts (bench, reliability, api-fuzz, citus-check, console-test) to run
# `partner-center serve`: on a free loopback port, its output in a log, ready once /readyz
# answers 200, stopped gracefully. Source after common.sh; BIN names the binary.

SERVER_PID=""
SERVER_PORT=""
SERVER_URL=""
SERVER_COMMAND=()

# free_port: a TCP port free on 127.0.0.1 now (another process can take it before a bind).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# server_start LOG [VAR=value …] [-- serve options …]
#   Starts "$BIN serve" on a free port with the caller's environment plus the VAR=value
#   words, its output to LOG. Sets SERVER_PID, SERVER_PORT, SERVER_URL and SERVER_COMMAND
#   (the whole command line, for a drill that restarts the server itself), then waits for
#   /readyz; dies with the log's tail if the server exits first or is not ready in 60 s.
server_start() {
  local log="$1"
  shift
  local -a environment=()
  while (($#)) && [[ $1 != -- ]]; do
    environment+=("$1")
    shift
  done
  (($#)) && shift
  SERVER_PORT="$(free_port)"
  SERVER_URL="http://127.0.0.1:$SERVER_PORT"
  SERVER_COMMAND=(env "${environment[@]}" "$BIN" serve --host 127.0.0.1 --port "$SERVER_PORT" "$@")
  "${SERVER_COMMAND[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  server_wait_ready "$SERVER_URL" "$SERVER_PID" 60 || die "the server did not become ready ($log): $(tail -5 "$log")"
}

# server_wait_ready URL PID SECONDS: polls URL/readyz until it answers 200. Fails when PID
# has exited (a zombie counts: the caller has not reaped it yet) or time runs out.
server_wait_ready() {
  python3 - "$@" <<'PY'
import sys, time, urllib.request
base, pid, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                sys.exit("the server exited")
    except FileNotFoundError:
        sys.exit("the server exited")
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit("the server was not ready in time")
PY
}

# server_stop: SIGTERM (the server lets in-flight requests finish), SIGKILL after 10 s.
server_stop() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      # A zombie answers kill -0: reap it to know it has gone.
      [[ $(awk '{ print $3 }' "/proc/$SERVER_PID/stat" 2>/dev/null) == Z ]] && break
      sleep 0.2
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
