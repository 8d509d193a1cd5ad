# shellcheck shell=bash
# Helpers shared by Scripts/db, Scripts/run and Scripts/test (sourced, not run).
# Everything here writes progress to stderr so that callers can keep stdout
# for machine-readable output (Scripts/db start prints only the URL there).

# The project folder, whatever the current directory is (-P: no symlinks, so
# the /tmp fallback hash of Scripts/db is stable).
# shellcheck disable=SC2034 # used by the scripts that source this file
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
SCRIPT_NAME="${SCRIPT_NAME:-$(basename -- "$0")}"

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Locates a PostgreSQL *server* installation (initdb, pg_ctl, postgres) and
# sets PG_BIN. pg_config from libpq-dev may exist without the server, hence
# the check for the actual binaries. PG_BINDIR in the environment wins.
find_pg_bindir() {
  local d candidates=()
  [[ -n ${PG_BINDIR:-} ]] && candidates+=("$PG_BINDIR")
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    [[ -n $d ]] && candidates+=("$d")
  fi
  # Debian/Ubuntu layout; newest major version first.
  while IFS= read -r d; do
    [[ -n $d ]] && candidates+=("$d")
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV)
  if command -v initdb >/dev/null 2>&1; then
    candidates+=("$(dirname -- "$(command -v initdb)")")
  fi
  for d in "${candidates[@]}"; do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      PG_BIN="$d"
      return 0
    fi
  done
  return 1
}

# A client tool (psql, pg_isready, createdb): from the server's bindir if
# known, else from PATH (e.g. only postgresql-client installed).
pg_tool() {
  if [[ -n ${PG_BIN:-} && -x $PG_BIN/$1 ]]; then
    printf '%s\n' "$PG_BIN/$1"
  elif command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    find_pg_bindir || true
    [[ -n ${PG_BIN:-} && -x $PG_BIN/$1 ]] || die "PostgreSQL tool '$1' not found"
    printf '%s\n' "$PG_BIN/$1"
  fi
}

_APT_UPDATED=0
# Installs Debian packages; runs 'apt-get update' once per process first
# (fresh machines have no package lists). All apt output goes to stderr.
apt_install() {
  local sudo=()
  if ! is_root; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      die "need root (or sudo) to install: $*; install them and retry"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "apt-get not available; install these yourself: $* (or set PG_BINDIR)"
  if [[ $_APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 \
      || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# What building and running the project needs from the OS: the PostgreSQL
# server (embedded dev cluster), libpq headers and pkg-config (Swift build).
# Installs only what is missing, so it is a no-op on a prepared machine.
ensure_packages() {
  local missing=()
  find_pg_bindir || missing+=(postgresql)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libpq; } \
     && [[ ! -e /usr/include/postgresql/libpq-fe.h ]]; then
    missing+=(libpq-dev)
  fi
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
    if [[ " ${missing[*]} " == *" postgresql "* ]]; then
      find_pg_bindir || die "installed postgresql but found no initdb/pg_ctl/postgres"
    fi
  fi
}

# url_with_db URL DBNAME: the same PostgreSQL URL with its database (path)
# replaced, keeping user, password, host, port and any ?query.
#   postgresql://u:p@h:5432/app?sslmode=disable -> postgresql://u:p@h:5432/DB?sslmode=disable
url_with_db() {
  local url="$1" db="$2" query="" scheme rest authority
  [[ $url == *://* ]] || die "not a URL: ${url%%@*}…"
  if [[ $url == *\?* ]]; then
    query="?${url#*\?}"
    url="${url%%\?*}"
  fi
  scheme="${url%%://*}"
  rest="${url#*://}"
  authority="${rest%%/*}"
  printf '%s://%s/%s%s\n' "$scheme" "$authority" "$db" "$query"
}

# A URL with its password masked, for log messages.
redact_url() {
  local url="$1"
  if [[ $url =~ ^([^:/]+://[^:@/]+:)[^@/]*(@.*)$ ]]; then
    printf '%s***%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  else
    printf '%s\n' "$url"
  fi
}

# app_url ADMIN_URL: the same URL as the application role partner_app, the role the server
# and the sweep use in production (row-level security applies to it, not to the admin).
# partner_app gets the admin's password and may log in, as `Scripts/db app-url` does.
app_url() {
  local url="$1" password
  password="$(python3 -c 'import sys, urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).password or ""))' "$url")"
  "$(pg_tool psql)" -X -q -v ON_ERROR_STOP=1 -v pw="$password" "$url" >&2 <<'SQL'
ALTER ROLE partner_app WITH LOGIN PASSWORD :'pw';
SQL
  python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
host = p.netloc.rsplit("@", 1)[-1]
print(u.urlunsplit((p.scheme, "partner_app:" + u.quote(u.unquote(p.password or ""), safe="") + "@" + host, p.path, p.query, p.fragment)))
' "$url"
}

# seed_token ROLE: the token of ROLE (operator, distributor, partner,
# partner-without-permission, customer) in `partner-center seed-demo --json` read from stdin.
seed_token() {
  python3 -c '
import json, sys
print(next((key["token"] for key in json.load(sys.stdin)["keys"] if key["role"] == sys.argv[1]), ""))
' "$1"
}
