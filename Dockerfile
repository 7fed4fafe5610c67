# syntax=docker/dockerfile:1
# One image for every service of the bus: `docker run IMAGE order_router` runs `esb run order_router`
# (the package services/order_router).
# Build: docker build -t esb:dev .      Run: docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=... esb:dev gateway
ARG PYTHON_IMAGE=python:3.11-slim

# --- native: the compiled fast path (native/, Rust) as a wheel for the image's Python ---
FROM ${PYTHON_IMAGE} AS native
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH
# The Rust toolchain of the official image (Debian, like the Python one), for this stage only.
COPY --from=rust:1-slim /usr/local/rustup /usr/local/rustup
COPY --from=rust:1-slim /usr/local/cargo /usr/local/cargo
# The linker and C runtime the extension module links with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /native
COPY native ./
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=cache,target=/usr/local/cargo/registry \
    pip wheel --no-deps --wheel-dir /wheels .

# --- build: a virtualenv with the dependencies, then the project itself ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/esb
ENV PATH=/opt/esb/bin:$PATH
WORKDIR /src
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
# Then the code; --no-deps keeps the dependency layer above authoritative.
COPY README.md ./
COPY bus ./bus
COPY esb ./esb
COPY schemas ./schemas
COPY services ./services
COPY --from=native /wheels /wheels
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps . /wheels/*.whl \
    && python -m compileall -q /opt/esb/lib

# --- runtime: the virtualenv on a clean base, as an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/esb/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ESB_HTTP_PORT=9400 \
    ESB_STATE_DIR=/var/lib/esb/state \
    GATEWAY_HOST=0.0.0.0
RUN groupadd --system --gid 10001 esb \
    && useradd --system --uid 10001 --gid esb --home-dir /var/lib/esb --shell /usr/sbin/nologin esb \
    && mkdir -p /var/lib/esb/state \
    && chown -R esb:esb /var/lib/esb
COPY --from=build /opt/esb /opt/esb
WORKDIR /var/lib/esb
USER 10001:10001
# 9400: ops (/healthz, /readyz, /metrics) of every service; 8080: the gateway's webhooks.
EXPOSE 9400 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ESB_HTTP_PORT', '9400'), timeout=4)"]
ENTRYPOINT ["esb", "run"]
CMD ["gateway"]
