#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up: PostgreSQL on 127.0.0.1:5432 with a
# database `test`, and Node for the wiki markup oracle. Starts or installs what is missing.
set -uo pipefail
cd "$(dirname "$0")/.."

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "services: installing PostgreSQL from Debian packages"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
fi
# A freshly installed cluster authenticates local TCP users by password (Debian's pg_hba.conf);
# the test suite connects as postgres without one, as on the project's machines: trust the
# loopback addresses only.
trust_loopback() {
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] || continue
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
      touch /tmp/.jirabridge-pg-reload
    fi
  done
}
if ! pg_up || ! psql -h 127.0.0.1 -U postgres -tAc 'select 1' >/dev/null 2>&1; then
  trust_loopback
  if ls /etc/postgresql >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
      if [ -f /tmp/.jirabridge-pg-reload ]; then
        pg_ctlcluster --skip-systemctl-redirect "$v" main reload 2>/dev/null || true
      fi
    done
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if pg_up; then
  psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null 2>&1 || true
  echo "services: PostgreSQL is up"
else
  echo "services: PostgreSQL is not reachable; tests marked 'postgres' will fail" >&2
fi

if ! command -v node >/dev/null 2>&1; then
  echo "services: installing Node.js from Debian packages"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) || true
fi
