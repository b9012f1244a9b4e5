"""Page-number pagination with the total count (``?page=2&page_size=100``).

A ``page`` or ``page_size`` that is not a whole number in range is refused with 400 naming
it; DRF would quietly use the default size instead. A page past the last one is a 404.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    max_page = 10**9

    def get_page_size(self, request):
        return _whole_number(request, self.page_size_query_param, self.page_size,
                             maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param)
        if value in self.last_page_strings:
            return value
        return _whole_number(request, self.page_query_param, 1, maximum=self.max_page)

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.page_query_param, "required": False, "in": "query",
             "description": "A page number (1 is the first page).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Results per page (default {self.page_size}, at most "
                            f"{self.max_page_size}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size}},
        ]


def _whole_number(request, name: str, default: int, *, maximum: int | None = None) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 19 and int(value) >= 1):
        raise ValidationError({name: [f"Expected a whole number from 1, got '{value[:40]}'."]})
    if maximum is not None and int(value) > maximum:
        raise ValidationError({name: [f"At most {maximum}."]})
    return int(value)
