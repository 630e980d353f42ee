"""Running the monitor as a service: metrics, logs, probes and the status page.

``metrics`` defines every Prometheus metric; ``logs`` and ``redact`` set up
the log stream and keep secrets out of it; ``server`` is the HTTP endpoint
(``/metrics``, ``/healthz``, ``/readyz``, the status page) built from the pure
``readiness``, ``history``, ``sources`` and ``page`` modules.
"""
