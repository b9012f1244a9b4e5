from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and webhooks"

    def ready(self):
        from api.tokens import tokens_revoke_when_membership_narrows
        from api.webhooks import webhook_emit_event
        from brands.signals import membership_narrowed
        from core.events import event_happened

        event_happened.connect(webhook_emit_event, dispatch_uid="api.webhook_emit_event")
        membership_narrowed.connect(tokens_revoke_when_membership_narrows,
                                    dispatch_uid="api.tokens_revoke_when_membership_narrows")
