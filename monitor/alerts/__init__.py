"""The alert sink and delivery.

Map of the package (pure decisions first, I/O shells after):

* rules: ``terms`` (keywords and RE2 patterns), ``conditions`` (condition
  nodes), ``rules`` (YAML schema, ``load_rules``), ``index`` (RE2 Set
  prefilter), ``matching`` (``evaluate``, alert ids, ``make_alert``);
* one alert per story: ``story`` (``decide``), ``state`` (its SQLite store);
* delivery: ``payloads``, ``signing``, ``breaker``, ``notifiers``,
  ``delivery`` (the engine), ``store`` (alert history);
* roles and tools: ``role`` (``AlertRole``, ``DeliveryRole``,
  ``alert_roles``), ``backtest`` (backtest and replay), ``commands`` (CLI),
  ``schema`` (JSON Schema of the webhook payload), ``settings``.
"""
