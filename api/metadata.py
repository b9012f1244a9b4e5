"""OPTIONS on any API URL: the methods it allows and where its fields are described.

DRF's default metadata calls ``get_object()`` to check object permissions for PUT, which
answers 500 on views that have no object in the URL (``members/me/notifications/``), and it
describes the view's default serializer even for actions that take another (RELIABILITY B15).
The OpenAPI schema describes every operation's fields exactly, so OPTIONS points there.
"""

from __future__ import annotations

from rest_framework.metadata import BaseMetadata


class ApiMetadata(BaseMetadata):
    """OPTIONS: the methods this URL allows; the fields are in the OpenAPI schema."""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "allowed_methods": [m for m in view.allowed_methods if m != "OPTIONS"],
            "parses": [parser.media_type for parser in view.parser_classes],
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "schema": "/api/schema/",
        }
