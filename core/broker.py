"""The broker, known by task name only: publish a task, ask how many messages wait in a queue.

Services publish by the task's stable name (``rendering.render_job``), so no service imports a
tasks module and the web process never imports what a task needs (torch, the OCR models). With
no broker configured (the embedded default) tasks run in-process: the task modules are
imported then, on first use, and the task runs where it is published.
"""

from __future__ import annotations

from celery import current_app


def broker_is_eager() -> bool:
    """True when there is no broker and tasks run in-process (the embedded default)."""
    return bool(current_app.conf.task_always_eager)


def task_publish(name: str, *, args: list | tuple = (), task_id: str | None = None,
                 **options) -> None:
    """Publish the task ``name`` (routed by CELERY_TASK_ROUTES). Raises
    kombu.exceptions.OperationalError when the broker cannot be reached."""
    app = current_app
    if broker_is_eager():
        if name not in app.tasks:
            app.loader.import_default_modules()  # registers every app's tasks module
        app.tasks[name].apply_async(args=list(args), task_id=task_id, **options)
        return
    app.send_task(name, args=list(args), task_id=task_id, **options)


def broker_queue_depth(queue: str) -> int | None:
    """Messages (doorbells) waiting in the broker's ``queue``; None when the broker cannot say
    (down, or the in-process default)."""
    from kombu.exceptions import OperationalError

    app = current_app
    if broker_is_eager():
        return None
    try:
        with app.connection_for_read() as connection:
            try:
                channel = connection.default_channel
                return channel.queue_declare(queue=queue, passive=True).message_count
            except connection.channel_errors:
                return 0  # Redis keeps no empty list: nothing waits there
            except connection.connection_errors:
                return None
    except (OperationalError, OSError):
        return None
