"""How the campaign form offers formats: grouped by channel, each with its shape, and channel
packs (several formats at one click). Packs name preset keys (rendering/compose/formats.py)."""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL_ORDER = ("Google Display", "Meta", "LinkedIn", "Responsive", "Print")
OWN_CHANNEL = "Your formats"
ICON_PX = 28  # the longer side of a format's shape icon


@dataclass(frozen=True)
class FormatPack:
    key: str
    label: str
    format_keys: tuple[str, ...]


PACKS: tuple[FormatPack, ...] = (
    FormatPack("meta", "Meta: feed, portrait, story",
               ("meta-feed", "meta-feed-portrait", "meta-story")),
    FormatPack("google-essentials", "Google Display essentials",
               ("gdn-medium-rectangle", "gdn-large-rectangle", "gdn-leaderboard",
                "gdn-half-page", "gdn-mobile-banner")),
    FormatPack("linkedin", "LinkedIn: landscape, square, portrait",
               ("linkedin-landscape", "linkedin-square", "linkedin-portrait")),
    FormatPack("responsive", "Responsive: 1:1, 1.91:1, 4:5, 9:16",
               ("responsive-square", "responsive-landscape", "responsive-portrait",
                "responsive-vertical")),
    FormatPack("print", "Print A4–A2", ("print-a4", "print-a3", "print-a2")),
)


@dataclass(frozen=True)
class FormatChoice:
    """One format as the form shows it: the label says channel, name and size."""
    format: object
    icon_w: int
    icon_h: int

    @property
    def label(self) -> str:
        f = self.format
        return f"{f.channel} · {f.name} · {f.width}×{f.height}"


@dataclass(frozen=True)
class FormatGroup:
    channel: str
    choices: list[FormatChoice]


def format_icon(width: int, height: int) -> tuple[int, int]:
    """A box of the format's proportions, ICON_PX on its longer side (at least 3 px thin)."""
    if width >= height:
        return ICON_PX, max(3, round(ICON_PX * height / width))
    return max(3, round(ICON_PX * width / height)), ICON_PX


def format_groups(formats) -> list[FormatGroup]:
    """The formats by channel (the presets' channels in a fixed order, then the workspace's
    own), smallest first within a channel."""
    groups: dict[str, list[FormatChoice]] = {}
    for fmt in sorted(formats, key=lambda f: (f.width * f.height, f.width)):
        channel = OWN_CHANNEL if fmt.workspace_id else fmt.channel
        groups.setdefault(channel, []).append(FormatChoice(fmt, *format_icon(fmt.width,
                                                                            fmt.height)))
    order = {name: i for i, name in enumerate((*CHANNEL_ORDER, OWN_CHANNEL))}
    return [FormatGroup(channel, choices) for channel, choices in
            sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order) - 1), kv[0]))]


def pack_format_ids(formats) -> dict[str, list[int]]:
    """For each pack, the ids of its formats among ``formats`` (a pack missing all is left
    out)."""
    by_key = {f.key: f.pk for f in formats if f.workspace_id is None}
    packs = {pack.key: [by_key[k] for k in pack.format_keys if k in by_key] for pack in PACKS}
    return {key: ids for key, ids in packs.items() if ids}
