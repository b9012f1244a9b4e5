"""The dashboard's navigation: grouped sections, the current one marked (templates/base.html)."""

from __future__ import annotations

from django import template
from django.urls import reverse

register = template.Library()

# (group label, or "" for a lone link, [(link label, URL name, section)]); a page's section
# comes from its URL name (SECTION_OF).
NAV = (
    ("Create", [("Campaigns", "campaign-list", "campaigns"),
                ("Templates", "template-list", "templates"),
                ("Formats", "format-list", "formats")]),
    ("Catalog", [("Brand kits", "brand-list", "brands"),
                 ("Products", "product-list", "products"),
                 ("Feeds", "feed-source-list", "feeds")]),
    ("", [("Review", "review-queue", "review")]),
    ("Workspace", [("Members", "member-list", "members"),
                   ("API tokens", "api-tokens", "tokens")]),
)
# URL name prefix -> section; the longest matching prefix wins.
SECTION_OF = {
    "workspace": "home", "campaign": "campaigns", "slot": "campaigns", "job": "campaigns",
    "asset": "review", "template": "templates", "format": "formats", "brand": "brands",
    "product": "products", "feed-import": "products", "feed-source": "feeds",
    "review": "review", "member": "members", "invitation-change": "members",
    "api-tokens": "tokens", "notification": "account", "operator": "ops",
}


def section_of(url_name: str | None) -> str:
    """The navigation section a page belongs to ("" when none)."""
    if not url_name:
        return ""
    matches = [prefix for prefix in SECTION_OF if url_name.startswith(prefix)]
    return SECTION_OF[max(matches, key=len)] if matches else ""


@register.simple_tag(takes_context=True)
def nav_groups(context) -> dict:
    """The groups of links for the current workspace, each link with ``current`` set for the
    section of the page being shown; ``section`` is that section."""
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    section = section_of(match.url_name if match else None)
    membership = getattr(request, "membership", None)
    groups = []
    if membership is not None:
        ws = membership.workspace.slug
        groups = [{"label": label, "links": [
            {"label": text, "url": reverse(name, kwargs={"ws": ws}), "current": key == section}
            for text, name, key in links]} for label, links in NAV]
    return {"groups": groups, "section": section}
