"""Field types the API's serializers share: object ids, ids scoped to the URL's workspace,
languages and optional URLs."""

from __future__ import annotations

from rest_framework import serializers

from api.converters import ID_MAX

LANGUAGE_CHOICES = [("en", "English"), ("zh", "Chinese")]


class IdField(serializers.IntegerField):
    """An object id: a whole number the database can hold (larger ones would overflow it)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class InWorkspace(serializers.PrimaryKeyRelatedField):
    """An id of an object in the URL's workspace (another workspace's id does not exist)."""

    default_error_messages = {
        "does_not_exist": "No such object in this workspace (id {pk_value}).",
        "incorrect_type": "Expected an id (a number), got {data_type}.",
    }

    def __init__(self, *, presets: bool = False, **kwargs):
        self.presets = presets
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= ID_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    def get_queryset(self):
        from django.db.models import Q

        workspace = self.context.get("workspace")
        scope = Q(workspace=workspace) | Q(workspace=None) if self.presets else Q(
            workspace=workspace)
        return super().get_queryset().filter(scope)


class OptionalUrlField(serializers.URLField):
    """A URL that may be missing: null then, never an empty string that is no URL."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None
