#!/usr/bin/env bash
# Prepares this machine for Baton: PostgreSQL with pgvector, Redis, Chromium, the baton database.
# Idempotent and quiet when nothing is to do. Run as root (or with sudo available) on Debian/Ubuntu.
set -euo pipefail

PGHOST_ADDR=${PGHOST_ADDR:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB_NAME=${BATON_DB_NAME:-baton}
SKIP_CHROMIUM=${SKIP_CHROMIUM:-}

log() { printf 'setup: %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# --- PostgreSQL ------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing PostgreSQL"
  apt_install postgresql postgresql-contrib
fi
PGVER=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
if [ -z "$PGVER" ]; then echo "setup: no PostgreSQL cluster found" >&2; exit 1; fi
if ! pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT"; then
  log "starting PostgreSQL $PGVER"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PGVER" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT" && break; sleep 0.5; done
fi

# --- pgvector --------------------------------------------------------------
# A binary package where the distribution has one; otherwise build Debian's source package
# from the next release (the archive URI is taken from this machine's own apt sources).
if [ ! -f "/usr/share/postgresql/$PGVER/extension/vector.control" ]; then
  log "installing pgvector for PostgreSQL $PGVER"
  $SUDO apt-get update -qq >/dev/null; apt_updated=1
  if apt-cache show "postgresql-$PGVER-pgvector" >/dev/null 2>&1; then
    apt_install "postgresql-$PGVER-pgvector"
  else
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
    if [ -z "$uri" ]; then
      uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
    fi
    if [ -z "$uri" ]; then echo "setup: cannot find a Debian archive URI in the apt sources" >&2; exit 1; fi
    src=/etc/apt/sources.list.d/baton-pgvector-src.list
    echo "deb-src $uri trixie main" | $SUDO tee "$src" >/dev/null
    $SUDO apt-get update -qq >/dev/null
    apt_install "postgresql-server-dev-$PGVER" build-essential
    work=$(mktemp -d)
    (cd "$work" && apt-get source --download-only pgvector >/dev/null 2>&1)
    tarball=$(ls "$work"/pgvector_*.orig.tar.* | head -1)
    mkdir -p "$work/src" && tar -xf "$tarball" -C "$work/src" --strip-components=1
    make -s -C "$work/src" >/dev/null
    $SUDO make -s -C "$work/src" install >/dev/null
    rm -rf "$work"
  fi
fi

# --- Redis -----------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing Redis"
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly yes --appendfsync everysec \
    --dir /var/lib/redis --logfile /var/log/redis/baton.log
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
# Queued tasks survive a Redis restart only with append-only persistence (PostgreSQL re-queues
# due replies and turns anyway, but later). A running Redis is switched over live: CONFIG SET
# starts the append-only file in the background without a restart; CONFIG REWRITE keeps it
# across restarts where the server has a config file. Nothing is stopped or flushed.
redis_persist() {
  if [ "$(redis-cli "$@" config get appendonly 2>/dev/null | sed -n 2p)" = "yes" ]; then
    return 0
  fi
  if redis-cli "$@" config set appendonly yes 2>/dev/null | grep -q OK; then
    log "Redis: append-only persistence switched on"
    redis-cli "$@" config rewrite 2>/dev/null | grep -q OK ||
      log "Redis: no config file to rewrite; start it with --appendonly yes to keep persistence after a restart"
  else
    log "Redis: could not switch on append-only persistence (CONFIG not allowed?); set appendonly yes in its configuration"
  fi
}
redis_persist -h 127.0.0.1 -p 6379

# --- Chromium (browser tests) ----------------------------------------------
if [ -z "$SKIP_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then
  log "installing Chromium"
  apt_install chromium
fi

# --- database ----------------------------------------------------------------
psql_admin() { psql -X -q -h "$PGHOST_ADDR" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }
if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  psql_admin -c "CREATE DATABASE $DB_NAME"
fi
psql_admin -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null 2>&1 || {
  echo "setup: CREATE EXTENSION vector failed" >&2; exit 1; }
