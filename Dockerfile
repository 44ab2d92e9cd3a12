# crmsync daemon image: slim Python 3.11, installed as a wheel, run as a non-root user.
#   docker build -t crmsync .
#   docker run --env-file crmsync.env -v ./config:/app/config:ro crmsync             # the daemon
#   docker run ... crmsync crmsync db upgrade                                          # migrations first
# Settings come from CRMSYNC_* variables and /app/config/crmsync.yaml (see config/crmsync.example.yaml).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY crmsync ./crmsync
COPY migrations ./migrations
# The package links crmsync/store/migrations to the top-level folder; ship real files in the wheel.
RUN rm -f crmsync/store/migrations && cp -r migrations crmsync/store/migrations \
    && pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRMSYNC_LOG_FORMAT=json \
    CRMSYNC_HEALTH__HOST=0.0.0.0 \
    CRMSYNC_HEALTH__PORT=9464 \
    CRMSYNC_SHUTDOWN_GRACE_S=20
RUN groupadd --system --gid 10001 crmsync \
    && useradd --system --uid 10001 --gid crmsync --home-dir /app --shell /usr/sbin/nologin crmsync
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && python -c "from crmsync.store.migrate import script_location; print(script_location())"
WORKDIR /app
COPY --chown=crmsync:crmsync config ./config
USER crmsync:crmsync
EXPOSE 9464
# Docker sends SIGTERM on stop; crmsync finishes the batch in flight and exits 0 within shutdown_grace_s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
CMD ["crmsync", "run"]
