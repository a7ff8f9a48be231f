# lznews service images, one target each; build from the repository root:
#   docker build --target crawler -t lznews/crawler .    (likewise normalizer, indexer, watcher)
# The watcher image also runs `lznews-alert-sink` (set LZNEWS_METRICS_PORT=9105 so the
# HEALTHCHECK follows it) and the `lznews-watch` CLI.

# Shared by every target: user, lznews-common and its pinned dependencies, so the images share
# these layers and each target adds only its own distribution.
FROM python:3.11.14-slim-bookworm AS common

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed numeric uid: Kubernetes runAsNonRoot can verify it, and volumes mounted on a state
# directory inherit its ownership because the targets create that directory in the image.
RUN groupadd --system --gid 10001 lznews \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home lznews

WORKDIR /app
# Only the pinned lock file and the distributions a target needs enter its image; the lock
# stays for the targets' own installs.
COPY requirements.lock /tmp/requirements.lock
COPY services/common /tmp/src/common
RUN pip install -c /tmp/requirements.lock /tmp/src/common && rm -rf /tmp/src

# Slim images have no curl. /healthz answers 503 when the service is unhealthy, which urlopen
# raises on. The port: LZNEWS_METRICS_PORT when set (as in settings.py), else the setting the
# target names in METRICS_PORT_SETTING (LZNEWS_<SERVICE>_METRICS_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; e = os.environ; p = int(e.get('LZNEWS_METRICS_PORT') or 0) or int(e[e['METRICS_PORT_SETTING']]); u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"]

# lznews-crawler: continuous crawl, publishes raw pages.
FROM common AS crawler
COPY services/crawler /tmp/src/crawler
RUN pip install -c /tmp/requirements.lock /tmp/src/crawler \
    && rm -rf /tmp/src /tmp/requirements.lock \
    && install -d -o lznews -g lznews /var/lib/lznews/crawler
ENV LZNEWS_CRAWLER_STATE_DIR=/var/lib/lznews/crawler LZNEWS_CRAWLER_METRICS_PORT=9101 \
    METRICS_PORT_SETTING=LZNEWS_CRAWLER_METRICS_PORT
USER 10001:10001
EXPOSE 9101
CMD ["lznews-crawler"]

# lznews-normalizer: Faust worker, raw-pages to articles (6066: Faust's web server).
FROM common AS normalizer
COPY services/normalizer /tmp/src/normalizer
RUN pip install -c /tmp/requirements.lock /tmp/src/normalizer \
    && rm -rf /tmp/src /tmp/requirements.lock \
    && install -d -o lznews -g lznews /var/lib/lznews/normalizer
ENV LZNEWS_NORMALIZER_DATA_DIR=/var/lib/lznews/normalizer LZNEWS_NORMALIZER_METRICS_PORT=9102 \
    METRICS_PORT_SETTING=LZNEWS_NORMALIZER_METRICS_PORT
USER 10001:10001
EXPOSE 9102 6066
CMD ["lznews-normalizer"]

# lznews-indexer: articles to Elasticsearch.
FROM common AS indexer
COPY services/indexer /tmp/src/indexer
RUN pip install -c /tmp/requirements.lock /tmp/src/indexer \
    && rm -rf /tmp/src /tmp/requirements.lock \
    && install -d -o lznews -g lznews /var/lib/lznews
ENV LZNEWS_INDEXER_METRICS_PORT=9103 METRICS_PORT_SETTING=LZNEWS_INDEXER_METRICS_PORT
USER 10001:10001
EXPOSE 9103
CMD ["lznews-indexer"]

# lznews-watcher: policy watch, the matcher by default. The alert sink's digests
# (LZNEWS_WATCH_DIGEST_DIR) go to /var/lib/lznews/digests in compose and k8s.
FROM common AS watcher
COPY services/watcher /tmp/src/watcher
RUN pip install -c /tmp/requirements.lock /tmp/src/watcher \
    && rm -rf /tmp/src /tmp/requirements.lock \
    && install -d -o lznews -g lznews /var/lib/lznews /var/lib/lznews/digests
ENV LZNEWS_WATCHER_METRICS_PORT=9104 METRICS_PORT_SETTING=LZNEWS_WATCHER_METRICS_PORT
USER 10001:10001
EXPOSE 9104
CMD ["lznews-watcher"]
