"""REST API settings: Django REST framework, rates, webhooks, feed fetching and the OpenAPI
schema."""

from adstudio.settings.base import env
from adstudio.settings.security import ADSTUDIO_TRUSTED_PROXY_COUNT

# --- REST API (docs/api.md; https://www.django-rest-framework.org/api-guide/settings/) ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browsable docs
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.ApiUserRateThrottle", "api.throttling.ApiAnonRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_METADATA_CLASS": "api.metadata.ApiMetadata",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON, nested at most 64 deep (B15); uploads declare multipart/form-data themselves.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    # 0: DRF uses REMOTE_ADDR (None would trust any client's X-Forwarded-For). Our throttles
    # take the address from core.addresses.client_address anyway, as sign-in does (P9).
    "NUM_PROXIES": ADSTUDIO_TRUSTED_PROXY_COUNT,
}
# Requests per client before 429 (P7), e.g. "600/minute" or "20/second". Tokens and sessions
# count per user; anonymous callers per IP address.
ADSTUDIO_API_RATE = env.str("ADSTUDIO_API_RATE", default="600/minute")
ADSTUDIO_API_ANON_RATE = env.str("ADSTUDIO_API_ANON_RATE", default="60/minute")
# Webhooks: attempts per delivery (retries back off exponentially) and the request timeout.
ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = env.int("ADSTUDIO_WEBHOOK_MAX_ATTEMPTS", default=6)
ADSTUDIO_WEBHOOK_TIMEOUT = env.float("ADSTUDIO_WEBHOOK_TIMEOUT", default=10.0)
# Webhooks to loopback, private and link-local addresses are refused unless this is on (an
# admin could otherwise make AdStudio call services inside its own network).
ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
                                                   default=False)
# Product feeds fetched from a URL (brands.feed_fetch), and their photos: loopback and
# private addresses are refused unless this is on (tests, local development).
ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = env.bool("ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS",
                                                default=False)
# A fetched feed may hold at most this many bytes once decompressed (ADSTUDIO_MAX_FEED_BYTES
# is the cap on an uploaded feed file); the connect/read timeout and the whole download's limit.
ADSTUDIO_FEED_MAX_BYTES = env.int("ADSTUDIO_FEED_MAX_BYTES", default=500 * 1024 * 1024)
ADSTUDIO_FEED_TIMEOUT_SECONDS = env.float("ADSTUDIO_FEED_TIMEOUT_SECONDS", default=30.0)
ADSTUDIO_FEED_MAX_SECONDS = env.float("ADSTUDIO_FEED_MAX_SECONDS", default=600.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "AdStudio API",
    "DESCRIPTION": "Brand kits, products, templates, campaigns, renders and assets of one "
                   "workspace. Authenticate with `Authorization: Bearer <token>` (docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1/workspaces/\{ws\}",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "api.schema.tidy_descriptions"],
    # Ids in paths are <id:...> (api/converters.py): 1 to 2**63-1.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1,
                                        "maximum": 2**63 - 1}},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "rendering.models.JobStatus",
        "JobKindEnum": "rendering.models.JobKind",
        "AssetKindEnum": "rendering.models.AssetKind",
        "ScheduleKindEnum": "campaigns.models.ScheduleKind",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "DeliveryStatusEnum": "api.models.DeliveryStatus",
        "LanguageEnum": "api.serializers.fields.LANGUAGE_CHOICES",
    },
}
