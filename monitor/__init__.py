"""News monitor: feeds → Kafka → NLP → alerts, watching what is said about elections
and foreign interference."""

__version__ = "0.1.0"
