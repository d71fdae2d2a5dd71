from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """Jinja2 templates, static JS and CSS, and the translations."""

    name = "frontend"
