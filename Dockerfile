# medama_py image: the `make binary` PyInstaller build (one-folder form) on Debian slim, laid out
# like Medama's image (/app/bin, /app/data, `start -env`), so an existing Medama volume works as is.
# Builds with BuildKit and with the legacy builder alike (no frontend directive, no BuildKit-only
# options), and installs Python packages only from the hash-locked requirements/binary.txt.
#
#   make docker          # docker build -t medama_py . (with the commit stamped)
#   make docker-smoke    # build, run, log in, send a hit, read it back, restart on the same volume
#   docker run -d --name medama -p 8080:8080 -v medama_data:/app/data medama_py
#
# Base images are pinned by digest (the multi-platform index, so amd64 and arm64 both resolve).
# To bump one: `docker buildx imagetools inspect <tag>` (or `docker pull <tag>` and
# `docker inspect --format '{{index .RepoDigests 0}}' <tag>`), put the new digest below, then run
# `make docker-smoke`. The two digests here were not resolved from this project's machines (they
# have no registry access): each was read from a public BuildKit build log that resolved the tag
# (python:3.11-slim-bookworm on 2025-10-01, debian:bookworm-slim on 2026-03-29). Bump both on the
# first build where a registry is reachable.

# Tag: python:3.11-slim-bookworm
FROM python:3.11-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
# PyInstaller reads and strips the bundled shared libraries with binutils (objdump, strip). Its
# version is the one the pinned base's Debian release ships (an exact apt pin would break as soon
# as a security update replaces it in the archive); it only runs at build time.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The lock first, alone, so the dependency layer is rebuilt only when the lock changes.
COPY requirements/binary.txt ./requirements/binary.txt
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements/binary.txt
COPY pyproject.toml README.md ./
COPY medama_py ./medama_py
COPY packaging ./packaging
# The project itself without dependencies, built by the locked setuptools: nothing unpinned.
RUN /venv/bin/pip install --no-deps --no-build-isolation -e . \
    && chmod 755 packaging/docker-entrypoint.sh packaging/docker-healthcheck.sh
# The dashboard and tracker builds are committed under medama_py/static; --strict fails without them.
ARG COMMIT=development
RUN MEDAMA_COMMIT="$COMMIT" /venv/bin/python packaging/build_binary.py --onedir --strict --dist /out

# Tag: debian:bookworm-slim
FROM debian:bookworm-slim@sha256:f06537653ac770703bc45b4b113475bd402f451e85223f0f2837acbf89ab020a
# The server needs only glibc (everything else is bundled) and the health check only bash: no
# packages are added to the pinned base.
RUN groupadd --system --gid 10001 medama \
    && useradd --system --uid 10001 --gid medama --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin medama \
    && mkdir -p /app/data \
    && chown medama:medama /app/data
COPY --from=build /out/medama /app/bin
# Run bits were set in the build stage (COPY keeps them; a plain COPY works on every builder).
COPY --from=build /src/packaging/docker-entrypoint.sh /app/entrypoint.sh
COPY --from=build /src/packaging/docker-healthcheck.sh /app/healthcheck.sh
# Medama's image defaults (note me_app.db here versus me_meta.db for the bare binary). The server
# writes the port it bound to MEDAMA_PORT_FILE, which the health check reads.
ENV PORT=8080 \
    APP_DATABASE_HOST=/app/data/me_app.db \
    ANALYTICS_DATABASE_HOST=/app/data/me_analytics.db \
    MEDAMA_PORT_FILE=/app/data/medama.port
WORKDIR /app
VOLUME /app/data
EXPOSE 8080
# The entry point starts as root only to hand /app/data to `medama` (uid 10001), then drops to it.
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["start", "-env"]
# Follows `-port N` and `-e PORT=N` alike (the port file), so a moved port is not reported unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/app/healthcheck.sh"]
