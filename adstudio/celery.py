"""The Celery app.

With ``REDIS_URL`` set, tasks go through Redis to the workers. Without it (the embedded
default) tasks run eagerly in the web process, after the transaction that created the job
commits: the same task functions and services, no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

app = Celery("adstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
