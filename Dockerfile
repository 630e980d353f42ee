# The news-monitor image used by docker-compose.yml: one image, every role;
# pick the role with `monitor run --roles …` (the compose services do).
#
#   docker build -t news-monitor .
#   docker run --rm news-monitor check-config

# The base image is pinned to an exact Python release and Debian suite (a tag,
# not a digest: pin the digest too where the registry can be reached to read it).
FROM python:3.11.14-slim-bookworm AS build
# Exactly the versions in requirements.lock, every file checked against its
# hash (scripts/lock refreshes it), then the monitor itself with no
# dependencies of its own and the build backend from the lock.
RUN python -m venv /opt/monitor
COPY requirements.lock /src/
RUN /opt/monitor/bin/pip install --no-cache-dir --disable-pip-version-check \
      --require-hashes --no-deps -r /src/requirements.lock
COPY pyproject.toml README.md /src/
COPY monitor /src/monitor
# The shipped config is package data too (monitor.defaults: lexicons, site rules).
COPY config /src/config
RUN /opt/monitor/bin/pip install --no-cache-dir --disable-pip-version-check \
      --no-deps --no-build-isolation /src

FROM python:3.11.14-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/monitor --create-home monitor
COPY --from=build /opt/monitor /opt/monitor
# Shipped configuration; mount your own over /etc/monitor (feeds, rules, receivers).
COPY config /etc/monitor
ENV PATH=/opt/monitor/bin:$PATH \
    MONITOR_CONFIG=/etc/monitor/monitor.yaml \
    MONITOR_STATE_DIR=/var/lib/monitor \
    MONITOR_OPS__HTTP_HOST=0.0.0.0 \
    MONITOR_OPS__LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER monitor
WORKDIR /var/lib/monitor
VOLUME ["/var/lib/monitor"]
# /metrics, /healthz, /readyz and the status page. Inside a container the
# endpoint listens on all interfaces; publish it to 127.0.0.1 only, or set
# MONITOR_OPS__HTTP_TOKEN.
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
# SIGTERM drains in-flight work within ops.shutdown_grace_s (20 s by default);
# give `docker stop` more than that: `docker stop -t 30`, or stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
