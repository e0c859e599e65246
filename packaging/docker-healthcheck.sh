#!/bin/bash
# HEALTHCHECK of the medama_py image: asks the server for /openapi.yaml on the port it really
# bound. The server writes that port to $MEDAMA_PORT_FILE once it listens (the image sets it to
# /app/data/medama.port), so `start -env -port 9000` and `-e PORT=9000 ... start -env` are both
# checked on 9000. Before the first start writes the file, $PORT (else 8080) is asked.
# Plain bash (its /dev/tcp), so the runtime image needs no HTTP client package at all.
set -euo pipefail
port=$(cat "${MEDAMA_PORT_FILE:-/app/data/medama.port}" 2>/dev/null || true)
case "$port" in
    "" | *[!0-9]*) port=${PORT:-8080} ;;
esac
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET /openapi.yaml HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 4 status <&3
case "$status" in
    "HTTP/1."?" 200 "*) exit 0 ;;
    *) echo "unhealthy: /openapi.yaml on port ${port} answered: ${status:-nothing}" >&2; exit 1 ;;
esac
