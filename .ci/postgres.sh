#!/usr/bin/env bash
# Starts a throwaway Postgres 15 cluster on 127.0.0.1 for the tests and
# prints its admin URL. Usage:
#   .ci/postgres.sh start DIR PORT    create and start a cluster in DIR
#   .ci/postgres.sh pause DIR         stop it, keeping its data
#   .ci/postgres.sh resume DIR PORT   start a paused cluster again
#   .ci/postgres.sh stop DIR          stop it and remove DIR
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=$1 dir=$2
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
run() {
  as_pg "$PGBIN/pg_ctl -D '$dir/data' -l '$dir/server.log' -o \"-p $1 -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" -w start >/dev/null"
  echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"
}
case "$cmd" in
start)
  mkdir -p "$dir"
  chown postgres "$dir" 2>/dev/null || true
  chmod 700 "$dir"
  as_pg "$PGBIN/initdb -D '$dir/data' -A trust -U postgres >'$dir/initdb.log' 2>&1"
  run "$3"
  ;;
pause)
  as_pg "$PGBIN/pg_ctl -D '$dir/data' -m fast -w stop >/dev/null"
  ;;
resume)
  run "$3"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$PGBIN/pg_ctl -D '$dir/data' -m immediate stop" >/dev/null 2>&1 || true
    else "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start DIR PORT | pause DIR | resume DIR PORT | stop DIR" >&2
  exit 2
  ;;
esac
