# ttdn-hub API image. Build: docker build -t ttdn-hub .   (see compose.yaml for the full stack)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app

# Dependencies first (from the lock, without the project's own line), so this layer is
# reused until requirements.lock changes.
COPY requirements.lock ./
RUN grep -vE '^(-e |ttdn[-_]hub( |=|@|$))' requirements.lock > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself. Editable, so app/, migrations/ and seed/ stay side by side in /app as
# in a checkout (the CLI finds migrations and seed data next to the package).
COPY pyproject.toml ./
COPY app ./app
COPY migrations ./migrations
COPY seed ./seed
RUN pip install --no-deps -e .

# Run as an unprivileged user; uploaded blobs and the SQLite fallback live in /data.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ttdn \
 && mkdir -p /data \
 && chown ttdn:ttdn /data
VOLUME ["/data"]
USER ttdn

EXPOSE 8000
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
