"""Email settings, and the links and digests that emails carry."""

from adstudio.settings.base import env

# --- Email: the console by default; SMTP with EMAIL_URL=smtp+tls://user:pass@host:587 ---
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AdStudio <adstudio@localhost>")
# The address people open AdStudio at: links in emails start with it.
ADSTUDIO_SITE_URL = env.str("ADSTUDIO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Approvers get one digest of the assets waiting for review at most this often.
ADSTUDIO_REVIEW_DIGEST_MINUTES = env.int("ADSTUDIO_REVIEW_DIGEST_MINUTES", default=15)
# Export download links work for this long.
ADSTUDIO_EXPORT_LINK_SECONDS = env.int("ADSTUDIO_EXPORT_LINK_SECONDS", default=3600)
