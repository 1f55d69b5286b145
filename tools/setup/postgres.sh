#!/usr/bin/env bash
# Make sure the PostgreSQL server the ledger tests use is up: start it if it is down, install it
# (as root, with apt) if it is missing, and create the `test` database if it does not exist.
# Runs on every `make test` (a running server answers in milliseconds); the tests never skip it.
set -euo pipefail

if [ -n "${LPHEDGE_TEST_POSTGRES_URL:-}" ]; then
  exit 0  # the user points the tests at a server of their own; the tests report if it is down
fi
HOST=127.0.0.1 PORT=5432

up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -h "$HOST" -p "$PORT" -q; }

if ! up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "make: PostgreSQL is not running at $HOST:$PORT and not installed: the ledger tests run on it; install it: sudo apt-get install -y postgresql" >&2
      exit 1
    fi
    echo "make: installing PostgreSQL for the ledger tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "make: PostgreSQL is down at $HOST:$PORT: the ledger tests run on it; start it: sudo pg_ctlcluster \$(ls /etc/postgresql | head -n1) main start" >&2
    exit 1
  fi
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  echo "make: starting PostgreSQL $version (it was down)" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do up && break; sleep 1; done
  if ! up; then
    echo "make: PostgreSQL $version did not come up at $HOST:$PORT; see /var/log/postgresql/" >&2
    exit 1
  fi
fi

if ! psql -h "$HOST" -p "$PORT" -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- createdb test 2>/dev/null || true
  fi
  if ! psql -h "$HOST" -p "$PORT" -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; then
    echo "make: cannot connect as postgresql://postgres@$HOST:$PORT/test (the ledger tests use it, with trust auth); or set LPHEDGE_TEST_POSTGRES_URL" >&2
    exit 1
  fi
fi
