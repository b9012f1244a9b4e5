"""A composed asset's recipe: what its design is made from (the copy, the brand's palette,
font and logo, the product's cut-out, the background), recorded when the job is created,
and turned into the design document and its input files when the job runs.

The recipe keeps the same provenance keys as a render's (template, brand and product with
their versions, the product's fields, the input hash), so staleness treats both alike; and
every input file by its hash, so the same recipe always composes the same bytes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from brands.selectors import brand_logo_primary
from rendering.compose import fonts
from rendering.compose.ad_copy import compose_copy
from rendering.compose.contrast import hex_rgb, relative_luminance
from rendering.compose.recipes import RECIPE_VERSION, input_hash, product_snapshot
from rendering.design.layout_classes import GRIDS, aspect_class, print_bleed
from rendering.design.layout_context import LayoutError
from rendering.design.layouts import design_layout
from rendering.design.scene_recipe import PLACEHOLDER
from rendering.design.schema import design_validate
from rendering.design.text_draw import text_lines

ENGINE = "compose"


def _palette(brand) -> list[str]:
    """The brand's colours, primary first (the layout takes its button from the first)."""
    colors = [c for c in brand.palette if c.get("hex")]
    colors.sort(key=lambda c: {"primary": 0, "accent": 1}.get(c.get("role"), 2))
    return [c["hex"].upper() for c in colors] or ["#1F3A93", "#F4F1EA"]


def _fill(brand, palette: list[str]) -> dict:
    """The brand fill behind the layers: the kit's background colour (else its lightest)
    falling softly to a shade 12% darker, like a studio backdrop."""
    base = (brand.color("background") or max(palette, key=lambda c: relative_luminance(
        hex_rgb(c)))).upper()
    shade = "#" + "".join(f"{round(v * 0.88):02X}" for v in hex_rgb(base))
    return {"type": "fill", "fill": {"type": "linear", "colors": [base, shade], "angle": 180}}


def product_cutout_photo(product):
    """The photo whose cut-out the product's ads show: its first one with a cut-out."""
    return (product.photos.exclude(cutout="").exclude(cutout_sha256="").order_by("id")
            .first())


def design_recipe(*, template, brand, product, format, language: str, variant: int = 0) -> dict:
    """The job-time recipe of one composed ad of ``product`` in ``format``; variant ``n`` takes
    the n-th layout of the format's class (0: the class's default or the brand's choice)."""
    copy = compose_copy(template=template, brand=brand, product=product, format=format,
                        language=language)
    font = brand.fonts.order_by("id").first()
    logo = brand_logo_primary(brand)  # the one marked primary, else the first uploaded
    photo = product_cutout_photo(product)
    palette = _palette(brand)
    background, background_file = _fill(brand, palette), None
    if template.background == "image":  # an uploaded picture under the layers
        if not template.background_image_sha256:
            raise ValidationError(
                f"The template “{template.name}” has no background image yet: upload one on "
                "the template's page, then generate again.", code="background_image_missing")
        background = {"type": "image", "sha256": template.background_image_sha256}
        background_file = {"file": template.background_image.name,
                           "sha256": template.background_image_sha256}
    return {
        "recipe_version": RECIPE_VERSION,
        "engine": ENGINE,
        "language": language,
        "output_size": [format.width, format.height],
        "format": {"key": format.key, "kind": format.kind, "dpi": format.dpi,
                   "channel": format.channel, "safe_zone": format.safe_zone or {},
                   "max_kilobytes": format.max_kilobytes},
        "text_mode": "layers",
        "variant": variant,
        "layouts": list(brand.preferred_layouts or []),  # the brand's choice, by id
        "copy": copy,
        "palette": palette,
        "background": background,
        "background_file": background_file,
        "font": {"file": font.file.name, "sha256": font.sha256} if font else None,
        "logo": ({"file": logo.file.name, "sha256": logo.sha256,
                  "size": [logo.width, logo.height]} if logo else None),
        "cutout": ({"photo": photo.pk, "file": photo.cutout.name,
                    "sha256": photo.cutout_sha256, "method": photo.cutout_method,
                    "size": _cutout_size(photo)} if photo else None),
        "template": {"id": template.id, "version": template.version},
        "brand": {"id": brand.id, "version": brand.version},
        "product": {"id": product.id, "sku": product.sku, "version": product.version,
                    "fields": product_snapshot(product)},
        "input_hash": input_hash(product=product, brand=brand, template=template),
    }


def _cutout_size(photo) -> list[int]:
    """The cut-out file's size: its crop box (left, top, right, bottom) in the photo."""
    box = (photo.cutout_box or {}).get("crop_box") or (photo.cutout_box or {}).get("box")
    if box and len(box) == 4:
        return [int(box[2]) - int(box[0]), int(box[3]) - int(box[1])]
    return [photo.width, photo.height]


def recipe_input_names(recipe: dict) -> dict[str, str]:
    """The stored file of each of the recipe's input files, by its hash."""
    names = dict(recipe.get("inputs") or {})  # a saved design's files
    # scene: the painted background; background_file: an uploaded one
    for key in ("font", "logo", "cutout", "scene", "background_file"):
        ref = recipe.get(key)
        if ref and ref.get("file"):
            names.setdefault(ref["sha256"], ref["file"])
    return names


def recipe_inputs(recipe: dict) -> dict[str, bytes]:
    """The recipe's input files, by their hash (the compositor checks each one)."""
    inputs = {}
    for digest, name in recipe_input_names(recipe).items():
        with default_storage.open(name, "rb") as handle:
            inputs[digest] = handle.read()
    return inputs


def recipe_design(recipe: dict, *, background: dict | None = None) -> dict:
    """The design document the recipe lays out for its format, or the design a user saved
    (validated either way). A scene background is laid out as an image (text goes on a scrim
    or panel) and drawn from ``background``, the source cut from the scene (a placeholder
    until then: rendering/design/scene_recipe.py)."""
    if recipe.get("design"):
        return design_validate(recipe["design"])
    source = recipe["background"]
    if source.get("type") == "scene":
        source = background or PLACEHOLDER
    fmt = recipe["format"]
    width, height = recipe["output_size"]
    dpi = fmt.get("dpi")
    logo, cutout = recipe.get("logo"), recipe.get("cutout")
    font = recipe.get("font")
    ids = GRIDS[aspect_class(width, height, fmt.get("kind", ""), dpi)].layouts
    variant = int(recipe.get("variant") or 0)
    # The brand's preferred layout of this class first; variant n takes the n-th.
    chosen = [i for i in recipe.get("layouts") or [] if i in ids]
    order = chosen + [i for i in ids if i not in chosen]
    preferred = [order[variant % len(order)]] if variant or chosen else None
    design = design_layout(
        size=(width, height), kind=fmt.get("kind", ""), copy=recipe["copy"],
        palette=recipe["palette"],
        font={"sha256": font["sha256"], "file": font["file"]} if font else None,
        logo={"sha256": logo["sha256"], "size": tuple(logo["size"])} if logo else None,
        product=({"sha256": cutout["sha256"], "size": tuple(cutout["size"])}
                 if cutout else None),
        background=source, preferred=preferred,
        bleed=print_bleed(dpi) if dpi else 0, dpi=dpi, safe_zone=fmt.get("safe_zone") or None)
    return design_validate(design)


def design_problems(recipe: dict) -> list[str]:
    """Why the recipe's design cannot be composed (copy a font cannot draw, a layout that
    cannot place it), found before any job exists; [] when it can. Only the brand font is
    read (once per process and checksum), never the images."""
    try:
        design = recipe_design(recipe)
        font = recipe.get("font")
        inputs = ({font["sha256"]: fonts.stored_file(font["file"], font["sha256"]).getvalue()}
                  if font else {})
        for index, layer in enumerate(design["layers"]):
            if layer["kind"] == "text":
                text_lines(layer, inputs, path=f"layers[{index}]")
    except ValidationError as exc:
        return list(exc.messages)
    except (LayoutError, FileNotFoundError) as exc:
        return [str(exc)]
    return []
