#!/bin/sh
# Scheduled pg_dump with retention: the weaver-backup service runs this with --loop (infra/faasd), and it
# runs once without it (cron, by hand). POSIX sh, for the postgres:16-alpine image's busybox.
#
# Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGDATABASE; the password from PGPASSWORD_FILE
# (a mounted secret) or PGPASSWORD. Output: BACKUP_DIR/weaver-<UTC time>.dump in pg_dump's custom format
# (compressed; `npx weaver restore <file>` restores it). Dumps older than BACKUP_KEEP_DAYS days are deleted,
# but never the newest one, so a stalled schedule does not delete the last good backup.
set -eu

BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
BACKUP_INTERVAL_SECONDS="${BACKUP_INTERVAL_SECONDS:-21600}"

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi

log() {
  printf '{"time":"%s","service":"weaver-backup","level":"%s","msg":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2"
}

backup_once() {
  mkdir -p "$BACKUP_DIR"
  name="weaver-$(date -u +%Y%m%dT%H%M%SZ).dump"
  partial="$BACKUP_DIR/.$name.partial"
  # Written under a hidden name and renamed when complete and readable: a crash never leaves a
  # half-written dump that looks like a backup.
  if ! pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$partial"; then
    rm -f "$partial"
    log error "pg_dump failed"
    return 1
  fi
  if ! pg_restore --list "$partial" >/dev/null; then
    rm -f "$partial"
    log error "dump is not readable by pg_restore"
    return 1
  fi
  mv "$partial" "$BACKUP_DIR/$name"
  log info "wrote $name ($(wc -c <"$BACKUP_DIR/$name") bytes)"

  newest="$(ls -1 "$BACKUP_DIR"/weaver-*.dump 2>/dev/null | sort | tail -n 1)"
  find "$BACKUP_DIR" -maxdepth 1 -name 'weaver-*.dump' -type f -mtime +"$BACKUP_KEEP_DAYS" | while read -r old; do
    if [ "$old" != "$newest" ]; then
      rm -f "$old"
      log info "deleted $(basename "$old") (older than $BACKUP_KEEP_DAYS days)"
    fi
  done
}

if [ "${1:-}" = "--loop" ]; then
  while true; do
    backup_once || log error "backup failed; retrying at the next interval"
    sleep "$BACKUP_INTERVAL_SECONDS"
  done
else
  backup_once
fi
