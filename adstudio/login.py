"""Sign-in that answers password guessing with 429 (RELIABILITY.md P7).

Failed sign-ins are counted in the cache per username and per client address. Once a count
reaches its limit (ADSTUDIO_LOGIN_ATTEMPTS for a username, ADSTUDIO_LOGIN_IP_ATTEMPTS for an
address) further sign-ins for that username, or from that address, are refused with 429 for
ADSTUDIO_LOGIN_LOCKOUT_SECONDS, before the password is checked, so guessing learns nothing.

The choice: a username's lock holds against every address, so spreading guesses over many
addresses gains nothing; the price is that someone can keep a known username locked for the
cooling-off period (never longer, and never learning the password). Failures against one
username do not lock anyone else out; only many failures from one address lock that address,
and its limit is set higher because an office signs in from one address. A successful sign-in
clears its username's count, not its address's.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from redis.exceptions import RedisError

from core.addresses import client_address

logger = logging.getLogger(__name__)


def _counters(request, username: str) -> list[tuple[str, int]]:
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    address = hashlib.sha256(client_address(request).encode()).hexdigest()
    return [(f"login-failures:user:{user}", settings.ADSTUDIO_LOGIN_ATTEMPTS),
            (f"login-failures:addr:{address}", settings.ADSTUDIO_LOGIN_IP_ATTEMPTS)]


def login_locked_for(request, username: str) -> int:
    """Seconds until sign-in for ``username`` from this caller is allowed again (0: now)."""
    try:
        locks = cache.get_many([f"{key}:lock" for key, _ in _counters(request, username)])
    except (RedisError, OSError) as exc:  # no cache: sign-in stays possible, unthrottled
        logger.warning("sign-in throttling is off, the cache failed: %s", exc)
        return 0
    until = max(locks.values(), default=0)
    return max(0, math.ceil(until - time.time()))


def login_failure_record(request, username: str) -> None:
    """Count one failed sign-in; lock what reached its limit for the cooling-off period."""
    lockout = settings.ADSTUDIO_LOGIN_LOCKOUT_SECONDS
    try:
        for key, limit in _counters(request, username):
            cache.add(key, 0, timeout=lockout)
            try:
                failures = cache.incr(key)
            except ValueError:  # the window expired between add and incr
                failures = 1
                cache.set(key, failures, timeout=lockout)
            if failures >= limit:
                cache.set(f"{key}:lock", time.time() + lockout, timeout=lockout)
                cache.delete(key)
    except (RedisError, OSError) as exc:
        logger.warning("sign-in throttling is off, the cache failed: %s", exc)


def login_success_record(request, username: str) -> None:
    user_key, _ = _counters(request, username)[0]
    try:
        cache.delete(user_key)
    except (RedisError, OSError) as exc:
        logger.warning("sign-in throttling is off, the cache failed: %s", exc)


class ThrottledLoginView(LoginView):
    """Django's sign-in page; refuses with 429 while the username or the address is locked."""

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        seconds = login_locked_for(request, username)
        if seconds:
            minutes = max(1, math.ceil(seconds / 60))
            messages.error(request, (
                f"Too many failed sign-ins. For your account's safety, sign-in is paused; "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}."))
            # An unbound form: binding it would check the password, which is what we refuse.
            form = self.get_form_class()(request=request, initial={"username": username})
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failure_record(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        login_success_record(self.request, form.get_user().get_username())
        return super().form_valid(form)
