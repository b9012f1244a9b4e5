"""API rate limits (P7) read from settings at request time, so operators and tests set them
with ADSTUDIO_API_RATE / ADSTUDIO_API_ANON_RATE.

Anonymous callers (and refused tokens) are counted per address, and the address is
``core.addresses.client_address``: the same rule as sign-in, so a client-written
``X-Forwarded-For`` never picks its own counter (P9).
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.addresses import client_address


class ApiUserRateThrottle(UserRateThrottle):
    def get_rate(self):
        return settings.ADSTUDIO_API_RATE

    def get_ident(self, request):
        return client_address(request)


class ApiAnonRateThrottle(AnonRateThrottle):
    def get_rate(self):
        return settings.ADSTUDIO_API_ANON_RATE

    def get_ident(self, request):
        return client_address(request)
