# syntax=docker/dockerfile:1
# medama_py image: the `make binary` PyInstaller build (one-folder form) on Debian slim, laid out
# like Medama's image (/app/bin, /app/data, `start -env`), so an existing Medama volume works as is.
#
#   docker build --build-arg COMMIT="$(git rev-parse --short HEAD)" -t medama_py .
#   docker run -d --name medama -p 8080:8080 -v medama_data:/app/data medama_py

FROM python:3.11-slim-bookworm AS build
# PyInstaller reads and strips the bundled shared libraries with binutils (objdump, strip).
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY medama_py ./medama_py
COPY packaging ./packaging
RUN python -m venv /venv && /venv/bin/pip install -e . "pyinstaller>=6.6"
# The dashboard and tracker builds are committed under medama_py/static; --strict fails without them.
ARG COMMIT=development
RUN MEDAMA_COMMIT="$COMMIT" /venv/bin/python packaging/build_binary.py --onedir --strict --dist /out

FROM debian:bookworm-slim
# The server needs only glibc (everything else is bundled); wget is for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 medama \
    && useradd --system --uid 10001 --gid medama --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin medama \
    && mkdir -p /app/data \
    && chown medama:medama /app/data
COPY --from=build /out/medama /app/bin
COPY --chmod=755 packaging/docker-entrypoint.sh /app/entrypoint.sh
# Medama's image defaults (note me_app.db here versus me_meta.db for the bare binary).
ENV PORT=8080 \
    APP_DATABASE_HOST=/app/data/me_app.db \
    ANALYTICS_DATABASE_HOST=/app/data/me_analytics.db
WORKDIR /app
VOLUME /app/data
EXPOSE 8080
# The entry point starts as root only to hand /app/data to `medama` (uid 10001), then drops to it.
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["start", "-env"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD wget -q -O /dev/null "http://127.0.0.1:${PORT}/openapi.yaml" || exit 1
