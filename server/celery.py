"""The Celery app: e-mail, reminders, campaign sends and timed room changes."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("renkei")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Worker lines carry the task's id (server.logs): set before each task runs, cleared after.
from celery.signals import task_postrun, task_prerun  # noqa: E402


@task_prerun.connect
def _task_id_on(task_id: str | None = None, **_kwargs: object) -> None:
    from server.logs import TASK_ID

    TASK_ID.set(task_id)


@task_postrun.connect
def _task_id_off(**_kwargs: object) -> None:
    from server.logs import TASK_ID

    TASK_ID.set(None)
