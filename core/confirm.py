"""The dashboard's delete buttons: one confirmed POST, the service's refusal shown as is."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect


def delete_confirmed(request, *, delete: Callable[[], None], back: str, done: str,
                     message: str):
    """Run ``delete()`` when the form's confirmation box is ticked, then go to ``done`` with
    ``message``; without the tick, or when the service refuses (ValidationError), go ``back``
    with the reason. ``back`` and ``done`` are URLs."""
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm the deletion.")
        return redirect(back)
    try:
        delete()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, message)
    return redirect(done)
