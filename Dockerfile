# djp-sentinel: one image for every role (`run --role gateway|monitor|delivery`, `db upgrade`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100

RUN useradd --system --create-home --uid 10001 sentinel
WORKDIR /app

COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage

# The application and its runtime dependencies only: no test or lint tools, not editable (the
# sources are copied into the venv's site-packages), no pip cache left in the layer.
RUN python -m venv .venv \
    && python -m pip install --quiet --no-cache-dir --upgrade pip \
    && python -m pip install --quiet --no-cache-dir . \
    && rm -rf bot cogs storage build *.egg-info \
    && mkdir -m 0700 data && chown sentinel:sentinel data

USER sentinel
EXPOSE 9100
# The port is read when the check runs, so a METRICS_PORT set at `docker run` is followed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['METRICS_PORT'], timeout=4)"
ENTRYPOINT ["djp-sentinel"]
CMD ["run"]
