#!/bin/sh
# Entry point of the medama_py image. Started as root (the default), it hands the database
# directories to the unprivileged `medama` user, because volumes written by Medama's own image
# (which runs as root) and fresh fly.io volumes are root-owned, then runs the server as `medama`.
# Started as any other user (docker run --user ...), it runs the server directly.
set -eu
if [ "$(id -u)" = 0 ]; then
    for db in "${APP_DATABASE_HOST:-}" "${ANALYTICS_DATABASE_HOST:-}"; do
        db=${db#file:}
        db=${db%%\?*}
        case "$db" in "" | :memory:) continue ;; esac
        dir=$(dirname -- "$db")
        [ "$dir" = / ] && continue
        mkdir -p -- "$dir"
        # The directory (SQLite and DuckDB create their journal and WAL files there) and this
        # database's own files; nothing else in it changes owner.
        name=$(basename -- "$db")
        find "$dir" -maxdepth 1 \( -path "$dir" -o -name "$name*" \) ! -user medama \
            -exec chown medama:medama {} +
    done
    exec setpriv --reuid=medama --regid=medama --init-groups -- /app/bin/medama "$@"
fi
exec /app/bin/medama "$@"
