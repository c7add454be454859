# Lading: one image for API nodes (`lading serve --no-worker`) and workers (`lading worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LADING_HOME=/var/lib/lading

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY lading ./lading
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/lading lading \
    && mkdir -p /var/lib/lading \
    && chown lading /var/lib/lading

USER lading
WORKDIR /var/lib/lading
EXPOSE 8000
ENTRYPOINT ["lading"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
