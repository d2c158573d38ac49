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

COPY pyproject.toml README.md Makefile ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage

# The same install as `make` (see the Makefile's .venv/.installed recipe).
RUN python -m venv .venv \
    && python -m pip install --quiet --upgrade pip \
    && python -m pip install --quiet -e '.[dev]' \
    && mkdir data && chown sentinel:sentinel data

USER sentinel
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4)"]
ENTRYPOINT ["djp-sentinel"]
CMD ["run"]
