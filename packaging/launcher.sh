#!/bin/sh
# medama: one-file executable. A gzip'd tar of the PyInstaller one-folder build follows this script.
# The first run of each build unpacks it into a cache directory (about a second); every later start
# runs it from there directly. `exec` keeps one process: signals, exit codes and kill -9 reach the
# server itself. MEDAMA_CACHE_DIR overrides the cache; delete it only while no medama runs from it.
set -eu
build=@BUILD@
payload=@PAYLOAD@
cache=${MEDAMA_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/medama}
if [ ! -x "$cache/$build/medama" ] && { ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; }; then
    # No usable cache under the home directory (a service user, a read-only home): a private temp dir.
    cache=${TMPDIR:-/tmp}/medama-$(id -u)
    mkdir -p -m 700 "$cache"
    if [ ! -O "$cache" ]; then
        echo "medama: $cache belongs to another user; set MEDAMA_CACHE_DIR" >&2
        exit 1
    fi
fi
dir=$cache/$build
if [ ! -x "$dir/medama" ]; then
    echo "medama: unpacking build $build into $dir" >&2
    tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT INT TERM
    tail -c +"$payload" "$0" | gzip -dc | tar -xf - -C "$tmp"
    # Rename is atomic: a concurrent first start either wins or finds the finished directory.
    mv "$tmp" "$dir" 2>/dev/null || true
    rm -rf "$tmp" "$dir/${tmp##*/}"
    trap - EXIT INT TERM
fi
exec "$dir/medama" "$@"
