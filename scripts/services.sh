#!/usr/bin/env bash
# Start the local PostgreSQL and Redis servers the tests use, if installed and down.
# Tests skip them only where none can be reached; with NEWSWATCH_REQUIRE_POSTGRES=1
# (set by `make test`) an unreachable server fails them instead.
set -u

start_redis() {
  command -v redis-cli >/dev/null 2>&1 || { echo "services: Redis not installed" >&2; return; }
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
  echo "services: starting Redis on 127.0.0.1:6379" >&2
  mkdir -p /tmp/newswatch-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/newswatch-redis --logfile /tmp/newswatch-redis/redis.log || true
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "services: Redis is not reachable on 127.0.0.1:6379" >&2
}
start_redis

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "services: PostgreSQL client tools not installed; PostgreSQL tests will fail or skip" >&2
  exit 0
fi
if pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | head -n 1)
  echo "services: starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
    sleep 1
  done
fi
echo "services: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
exit 0
