"""Checks of a composed asset (a layered design): the stored file is the design's own
composition, bit for bit, so every copy line is exactly as designed; and the product's
pixels are the catalog cut-out's (rendering/design/fidelity.py: every pixel under the
cut-out's opaque alpha, not covered by a layer above, must match exactly)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from rendering.design.compositor import compose, encode_png
from rendering.design.fidelity import product_fidelity
from rendering.design.recipe import recipe_inputs
from rendering.models import CheckKind
from rendering.quality.brand_checks import FAIL, PASS, UNVERIFIED, CheckResult


def design_checks(asset, image) -> list[CheckResult]:
    design, recipe = asset.design, asset.recipe or {}
    try:
        inputs = recipe_inputs(recipe)
        composed = compose(design, inputs)
    except (ValidationError, OSError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return [CheckResult(CheckKind.TEXT, UNVERIFIED, "The design could not be composed "
                            f"again to verify it: {reason}")]
    texts = [layer for layer in design["layers"] if layer["kind"] == "text"]
    with default_storage.open(asset.file.name, "rb") as handle:
        stored = hashlib.sha256(handle.read()).hexdigest()
    expected = hashlib.sha256(encode_png(composed, dpi=(recipe.get("format") or {}).get("dpi"))
                              ).hexdigest()
    same = stored == expected == asset.sha256
    results = [CheckResult(
        CheckKind.TEXT, PASS if same else FAIL,
        (f"All {len(texts)} copy lines are exactly as designed: the stored image is the "
         "design's composition, bit for bit." if same else
         "The stored image differs from its design's composition: it was changed after it "
         "was composed."),
        {"mode": "layers", "lines": {t["role"]: t["text"] for t in texts}, "exact": same})]
    if any(layer["kind"] == "product" for layer in design["layers"]):
        fidelity = product_fidelity(image, design, inputs)
        results.append(CheckResult(
            CheckKind.PRODUCT, PASS if fidelity["ok"] else FAIL,
            ("The product is the catalog cut-out, pixel for pixel "
             f"({fidelity['compared']:,} pixels compared)." if fidelity["ok"] else
             f"The product differs from the catalog cut-out in {fidelity['differing']:,} "
             f"pixels (up to {fidelity['max_diff']} levels)."),
            fidelity))
    return results
