"""Security settings: HTTPS, headers and cookies, and sign-in throttling."""

from adstudio.settings.base import PRODUCTION, env

# --- Security (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS",
                              default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = PRODUCTION
if env.bool("ADSTUDIO_BEHIND_TLS_PROXY", default=PRODUCTION):
    # The proxy terminates TLS and says so; only trust it when it strips the header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is for load balancers, which speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Sign-in throttling (RELIABILITY.md P7; adstudio/login.py) ---
# After this many failed sign-ins for one username within the lockout period, that username
# is refused (429) until the period has passed; a correct password does not lift it.
ADSTUDIO_LOGIN_ATTEMPTS = env.int("ADSTUDIO_LOGIN_ATTEMPTS", default=5)
# The same for one client address, set higher: an office signs in from one address.
ADSTUDIO_LOGIN_IP_ATTEMPTS = env.int("ADSTUDIO_LOGIN_IP_ATTEMPTS", default=50)
ADSTUDIO_LOGIN_LOCKOUT_SECONDS = env.int("ADSTUDIO_LOGIN_LOCKOUT_SECONDS", default=900)
# Reverse proxies in front of the web process that append X-Forwarded-For (0: use the
# connection's address). Set it behind a proxy, or everyone shares the proxy's address.
ADSTUDIO_TRUSTED_PROXY_COUNT = env.int("ADSTUDIO_TRUSTED_PROXY_COUNT", default=0)
