# Production image of xining-issues: one image for the web server, the Celery worker and beat
# (docker-compose.yml picks the command). Front-end packages come from the npm registry through
# package-lock.json; the few files the pages load are copied to static/vendor/ and collected at
# build time: nothing is served from a CDN.
#
#   docker build -t xining-issues .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=postgres://... -p 8000:8000 xining-issues

# --- Stage 1: front-end packages (runtime dependencies only) -----------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/copy-vendor.mjs scripts/
# Only the files the pages load leave this stage (static/vendor/, listed in copy-vendor.mjs):
# node_modules, with every ECharts source and every Chinese map, stays behind.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm run --silent vendor \
    && npm cache clean --force

# --- Stage 2: the source tree, with the translation catalogues compiled ------------------------
# msgfmt comes from Debian's gettext; the runtime image does not need it.
FROM python:3.11-slim-bookworm AS source
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN find . -name '*.po' -not -path './node_modules/*' \
    -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

# --- Stage 3: the application ------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app

WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root: the app user can read it but not change it.
COPY --from=source /src ./
COPY --from=assets /build/static/vendor ./static/vendor

ENV DJANGO_SETTINGS_MODULE=xining_issues.settings \
    DEBUG=0 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    WEB_CONCURRENCY=3

# collectstatic at build time, with DEBUG=0 so WhiteNoise's compressed manifest is written.
# Settings refuse DEBUG=0 without a SECRET_KEY: this throwaway key is set for this one command
# only, so it is not kept in the image's environment and signs nothing at run time. The
# placeholder database and broker URLs keep settings from creating SQLite or queue folders under
# /app; collectstatic connects to neither.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-secret \
    DATABASE_URL=postgres://build@localhost:5432/build \
    CELERY_BROKER_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput --verbosity 1

# Uploads live outside the code, on a volume the app user owns.
RUN mkdir -p /data/media && chown -R app:app /data
VOLUME ["/data/media"]

# Numeric, so that orchestrators can tell the user is not root.
USER 10001:10001
EXPOSE 8000

# Workers come from WEB_CONCURRENCY (gunicorn reads it). Logs go to stdout/stderr.
# gthread, 3 workers × 3 threads, measured for a 2-core node (issue 11, intake beside pgbench;
# demo/measure.py uses the same): a sync worker closes every connection after one answer, so
# each request pays for a new one, and 2 × cores + 1 = 5 sync processes fight PostgreSQL for
# two cores; gthread keeps connections alive and its threads overlap the waits on the database
# (commit), at 15-20 % less CPU per complaint. Raise WEB_CONCURRENCY with the cores (cores + 1).
CMD ["gunicorn", "xining_issues.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", \
     "--threads", "3", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
