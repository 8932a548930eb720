# FairMarket application image: API workers and the scheduler run from the same image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FAIRMARKET_DATA_DIR=/var/lib/fairmarket

WORKDIR /app
# The pinned runtime set first (its own layer, rebuilt only when the lock changes), the project on top.
COPY requirements-lock.txt ./
RUN pip install -r requirements-lock.txt
COPY pyproject.toml README.md scrapy.cfg ./
COPY api ./api
COPY analysis ./analysis
COPY alerts ./alerts
COPY cli ./cli
COPY complaints ./complaints
COPY core ./core
COPY crawlers ./crawlers
COPY dashboards ./dashboards
COPY importing ./importing
COPY jobs ./jobs
COPY sample_city ./sample_city
COPY search ./search
COPY web ./web
RUN pip install --no-deps . \
    && useradd --system --home /var/lib/fairmarket fairmarket \
    && mkdir -p /var/lib/fairmarket && chown fairmarket /var/lib/fairmarket
USER fairmarket
EXPOSE 8000
CMD ["uvicorn", "api.asgi:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--proxy-headers", "--timeout-keep-alive", "75"]
