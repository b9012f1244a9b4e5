"""Where an ad runs: the channel frames the asset page shows it in (a Meta feed post, a Meta
story with its safe zones, a Google Display page, a LinkedIn feed post, a print sheet with
bleed and trim marks), the ones that fit its channel and format first."""

from __future__ import annotations

from dataclasses import dataclass

from rendering.design.layout_classes import aspect_class

LABELS = {"meta-feed": "Meta feed", "meta-story": "Meta story", "display": "Google Display page",
          "linkedin": "LinkedIn feed", "print": "Print sheet"}


@dataclass(frozen=True)
class Frames:
    """The frames to offer (the first is shown first) and what they draw with."""

    ids: list[str]
    placement: str  # where the Display page puts the ad: "top", "side" or "inline"
    safe: dict  # story safe zones as % of the height: {"top": .., "bottom": ..}
    trim: dict  # print: the trim box as % of the image: {"x": .., "y": .., "w": .., "h": ..}
    width: int  # the ad's width in CSS px on the Display page (its real size, capped)
    copy: dict  # the post's lines: "headline", "primary" (the text above the ad), "cta"

    def labelled(self) -> list[tuple[str, str]]:
        return [(frame, LABELS[frame]) for frame in self.ids]


def channel_frames(asset) -> Frames:
    """The frames for ``asset``: its own channel's first, then the others it could run in."""
    fmt = asset.slot.format if asset.slot_id else None
    recipe_format = (asset.recipe or {}).get("format") or {}
    channel = fmt.channel if fmt else recipe_format.get("channel", "")
    kind = fmt.kind if fmt else recipe_format.get("kind", "")
    dpi = fmt.dpi if fmt else recipe_format.get("dpi")
    design = asset.design or {}
    width, height = design.get("size") or [asset.width, asset.height]
    bleed = design.get("bleed", 0)
    cls = aspect_class(width, height, kind, dpi)
    if cls == "print":
        ids = ["print"]
    elif cls == "story":
        ids = ["meta-story"]
    elif channel == "Google Display" or cls in ("strip", "leaderboard", "skyscraper"):
        ids = ["display"]
    elif channel == "LinkedIn":
        ids = ["linkedin", "meta-feed"]
    elif channel == "Meta":
        ids = ["meta-feed", "linkedin"]
    else:  # responsive: wherever Google, Meta and LinkedIn take it
        ids = ["display", "meta-feed", "linkedin"] if cls == "wide" else [
            "meta-feed", "linkedin", "display"]
    zone = (fmt.safe_zone if fmt else recipe_format.get("safe_zone")) or {}
    safe = design.get("safe") or [0, 0, 0, 0]
    top, bottom = max(zone.get("top", 0), safe[1]), max(zone.get("bottom", 0), safe[3])
    full_w, full_h = width + 2 * bleed, height + 2 * bleed
    ratio = width / height
    lines = (asset.recipe or {}).get("copy") or {}
    product = asset.slot.product.name if asset.slot_id else ""
    headline = lines.get("headline") or product
    placement = "top" if ratio >= 2.5 else "side" if width <= 336 or ratio < 0.7 else "inline"
    return Frames(
        ids=ids, placement=placement,
        safe={"top": round(100 * top / height, 2), "bottom": round(100 * bottom / height, 2)},
        trim={"x": round(100 * bleed / full_w, 3), "y": round(100 * bleed / full_h, 3),
              "w": round(100 * width / full_w, 3), "h": round(100 * height / full_h, 3)},
        width=min(width, 728 if placement == "top" else 300 if placement == "side" else 640),
        copy={"headline": headline, "primary": lines.get("subline") or headline,
              "cta": lines.get("cta") or "Shop now"})
