#!/bin/sh
# medama: one-file executable. A gzip'd tar of the PyInstaller one-folder build follows this script.
# The first run of each build unpacks it into a cache directory (about a second); every later start
# runs it from there directly. `exec` keeps one process: signals, exit codes and kill -9 reach the
# server itself. Override the cache with MEDAMA_CACHE_DIR; deleting the directory is always safe.
set -eu
build=@BUILD@
payload=@PAYLOAD@
cache=${MEDAMA_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/medama}
if [ ! -x "$cache/$build/medama" ]; then
    if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
        cache=${TMPDIR:-/tmp}/medama-$(id -u)
        mkdir -p "$cache"
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
