"""API rate limits (P7) read from settings at request time, so operators and tests set them
with ADSTUDIO_API_RATE / ADSTUDIO_API_ANON_RATE."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ApiUserRateThrottle(UserRateThrottle):
    def get_rate(self):
        return settings.ADSTUDIO_API_RATE


class ApiAnonRateThrottle(AnonRateThrottle):
    def get_rate(self):
        return settings.ADSTUDIO_API_ANON_RATE
