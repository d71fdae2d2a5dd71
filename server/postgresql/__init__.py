"""Django's PostgreSQL backend with a cheaper health check of pooled connections (see base.py)."""
