from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and webhooks"

    def ready(self):
        from brands.signals import membership_narrowed

        from .tokens import tokens_revoke_when_membership_narrows

        membership_narrowed.connect(tokens_revoke_when_membership_narrows,
                                    dispatch_uid="api.tokens_revoke_when_membership_narrows")
