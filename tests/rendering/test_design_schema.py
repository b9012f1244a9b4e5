"""The design document (adstudio.design/1): validation names the bad field, hash and inputs."""

import copy

import pytest
from django.core.exceptions import ValidationError

from rendering.design.schema import DESIGN_SCHEMA, design_hash, design_inputs, design_validate

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64


def make_doc() -> dict:
    return {
        "schema": DESIGN_SCHEMA, "size": [1200, 628], "bleed": 0, "safe": [0, 0, 0, 0],
        "layout": "wide.split",
        "layers": [
            {"kind": "background", "id": "background",
             "source": {"type": "fill", "fill": {"type": "solid", "color": "#f5efe6"}}},
            {"kind": "product", "id": "product", "sha256": SHA_A, "box": [700, 60, 440, 540],
             "shadow": {"opacity": 0.4, "blur": 12, "offset": [8, 10]}},
            {"kind": "shape", "id": "scrim", "shape": "scrim", "box": [0, 0, 700, 628],
             "color": "#000000", "opacity": 0.4, "radius": 0, "gradient": "to-right"},
            {"kind": "text", "id": "headline", "role": "headline", "text": "Summer Sale",
             "box": [60, 120, 600, 160], "size": 64, "color": "#FFFFFF", "align": "left",
             "valign": "top", "weight": "bold", "line_height": 1.15, "max_lines": 2,
             "font": None},
            {"kind": "logo", "id": "logo", "sha256": SHA_B, "box": [60, 30, 200, 60]},
        ],
    }


def errors_of(doc) -> dict:
    with pytest.raises(ValidationError) as caught:
        design_validate(doc)
    return caught.value.message_dict


def test_a_valid_design_comes_back_normalized():
    doc = make_doc()
    out = design_validate(doc)
    assert out is not doc and doc["layers"][0]["source"]["fill"]["color"] == "#f5efe6"
    assert out["layers"][0]["source"]["fill"]["color"] == "#F5EFE6"
    assert out["layers"][0]["focus"] == [0.5, 0.5] and out["layers"][0]["fit"] == "cover"
    assert out["layers"][1]["shadow"]["color"] == "#000000"
    assert out["layers"][4]["align"] == "center" and out["layers"][4]["valign"] == "middle"
    minimal = {"schema": DESIGN_SCHEMA, "size": [300, 250], "layers": [
        {"kind": "background", "id": "bg",
         "source": {"type": "fill", "fill": {"type": "linear", "colors": ["#000000", "#FFFFFF"],
                                             "angle": 90}}},
        {"kind": "text", "id": "t", "role": "cta", "text": "Go", "box": [10, 10, 100, 40],
         "size": 20, "color": "#111111"}]}
    out = design_validate(minimal)
    assert out["bleed"] == 0 and out["safe"] == [0, 0, 0, 0] and out["layout"] == ""
    text = out["layers"][1]
    assert (text["align"], text["valign"], text["weight"], text["line_height"],
            text["max_lines"], text["font"]) == ("left", "top", "bold", 1.2, 3, None)
    assert design_validate(out) == out  # normalizing is idempotent


def test_an_unknown_schema_version_is_refused_clearly():
    doc = make_doc()
    doc["schema"] = "adstudio.design/2"
    assert "adstudio.design/1" in errors_of(doc)["schema"][0]
    del doc["schema"]
    assert "Missing" in errors_of(doc)["schema"][0]
    with pytest.raises(ValidationError):
        design_validate(["not", "an", "object"])


@pytest.mark.parametrize("size", [[15, 628], [1200, 10001], [1200], ["1200", 628], [1200.0, 628],
                                  None, [True, 628]])
def test_size_bounds(size):
    doc = make_doc()
    doc["size"] = size
    assert "16..10000" in errors_of(doc)["size"][0]


@pytest.mark.parametrize("box, words", [
    ([700, 60, 440], "4 integers [x, y, width, height] inside the 1200x628 canvas"),
    ([700.5, 60, 440, 540], "4 integers"),
    ([700, 60, 0, 540], "positive"),
    ([900, 60, 440, 540], "inside the 1200x628 canvas"),
    ([-1, 60, 440, 540], "inside"),
])
def test_bad_boxes_name_the_layer_field(box, words):
    doc = make_doc()
    doc["layers"][1]["box"] = box
    errors = errors_of(doc)
    assert list(errors) == ["layers[1].box"]
    assert words in errors["layers[1].box"][0]


def test_shapes_may_reach_into_the_bleed_and_text_must_stay_out_of_the_safe_zone():
    doc = make_doc()
    doc["bleed"] = 36
    doc["layers"][2]["box"] = [-36, -36, 736, 700]
    design_validate(doc)
    doc["layers"][2]["box"] = [-37, -36, 736, 700]
    assert "plus 36 px bleed" in errors_of(doc)["layers[2].box"][0]
    doc = make_doc()
    doc["safe"] = [0, 150, 0, 0]
    errors = errors_of(doc)
    assert "safe zone" in errors["layers[3].box"][0]
    assert "layers[1].box" in errors and "layers[4].box" in errors and "layers[2].box" not in errors


@pytest.mark.parametrize("path, change, expect", [
    ("layers[2].id", lambda d: d["layers"][1].update(id="scrim"), "unique"),
    ("layers[2].color", lambda d: d["layers"][2].update(color="#FFF"), "#RRGGBB"),
    ("layers[2].color", lambda d: d["layers"][2].update(color="red"), "#RRGGBB"),
    ("layers[2].opacity", lambda d: d["layers"][2].update(opacity=1.5), "0 to 1"),
    ("layers[2].shape", lambda d: d["layers"][2].update(shape="star"), '"panel"'),
    ("layers[2].gradient", lambda d: d["layers"][2].update(gradient="diagonal"), '"to-left"'),
    ("layers[3].role", lambda d: d["layers"][3].update(role="title"), '"headline"'),
    ("layers[3].text", lambda d: d["layers"][3].update(text=""), "non-empty"),
    ("layers[3].text", lambda d: d["layers"][3].update(text="   "), "non-empty"),
    ("layers[3].text", lambda d: d["layers"][3].update(text="x" * 501), "at most 500"),
    ("layers[3].text", lambda d: d["layers"][3].update(text="Summer\nSale"), "U+000A"),
    ("layers[3].text", lambda d: d["layers"][3].update(text="Sale\x07"), "control"),
    ("layers[3].size", lambda d: d["layers"][3].update(size=64.5), "integer"),
    ("layers[3].align", lambda d: d["layers"][3].update(align="justify"), '"center"'),
    ("layers[3].line_height", lambda d: d["layers"][3].update(line_height=3), "1.0 to 2.0"),
    ("layers[3].max_lines", lambda d: d["layers"][3].update(max_lines=0), "1..20"),
    ("layers[3].font", lambda d: d["layers"][3].update(font="xyz"), "64 lowercase hex"),
    ("layers[1].sha256", lambda d: d["layers"][1].update(sha256=SHA_A.upper()), "lowercase"),
    ("layers[1].sha256", lambda d: d["layers"][1].update(sha256=SHA_A[:-1]), "64"),
    ("layers[1].shadow.opacity", lambda d: d["layers"][1]["shadow"].update(opacity=-0.1), "0"),
    ("layers[1].shadow.offset", lambda d: d["layers"][1]["shadow"].update(offset=[1]), "[dx, dy]"),
    ("layers[1].kind", lambda d: d["layers"][1].update(kind="video"), "Unknown layer kind"),
    ("layers[3].aling", lambda d: d["layers"][3].update(aling="left"), "Unknown field"),
    ("layers[0].source.fill.angle",
     lambda d: d["layers"][0]["source"].update(fill={"type": "linear", "angle": 360,
                                                      "colors": ["#000000", "#FFFFFF"]}),
     "0 <= angle < 360"),
    ("layers[0].source.fill.colors",
     lambda d: d["layers"][0]["source"].update(fill={"type": "linear", "angle": 0,
                                                      "colors": ["#000000"]}), "2..8"),
    ("layers[0].source.sha256",
     lambda d: d["layers"][0].update(source={"type": "image", "sha256": "nope"}), "64"),
    ("layers[0].focus", lambda d: d["layers"][0].update(focus=[1.2, 0.5]), "fractions"),
    ("bleed", lambda d: d.update(bleed=-1), "0..1000"),
    ("safe", lambda d: d.update(safe=[700, 0, 600, 0]), "leave room"),
    ("colour", lambda d: d.update(colour="#000000"), "Unknown field"),
])
def test_validation_errors_name_the_field(path, change, expect):
    doc = make_doc()
    change(doc)
    errors = errors_of(doc)
    assert path in errors, errors
    assert expect in " ".join(errors[path])


def test_layers_count_and_background_first():
    doc = make_doc()
    doc["layers"] += [{"kind": "shape", "id": f"s{i}", "shape": "panel", "box": [0, 0, 10, 10],
                       "color": "#000000"} for i in range(36)]
    assert "at most 40" in errors_of(doc)["layers"][0]
    doc = make_doc()
    doc["layers"].reverse()
    assert "first" in " ".join(errors_of(doc)["layers"])
    doc = make_doc()
    doc["layers"].insert(1, copy.deepcopy(doc["layers"][0]) | {"id": "bg2"})
    assert "exactly one background" in " ".join(errors_of(doc)["layers"])
    doc = make_doc()
    doc["layers"].append(copy.deepcopy(doc["layers"][1]) | {"id": "product2"})
    assert "at most one product" in " ".join(errors_of(doc)["layers"])
    doc["layers"] = []
    assert "non-empty" in errors_of(doc)["layers"][0]


def test_every_problem_is_reported_at_once():
    doc = make_doc()
    doc["layers"][2]["color"] = "black"
    doc["layers"][3]["role"] = "title"
    doc["layers"][4]["box"] = [1190, 30, 200, 60]
    assert {"layers[2].color", "layers[3].role", "layers[4].box"} <= set(errors_of(doc))


def test_design_hash_is_canonical():
    doc = make_doc()
    shuffled = {k: doc[k] for k in reversed(list(doc))}
    assert design_hash(doc) == design_hash(shuffled)
    assert len(design_hash(doc)) == 64
    changed = make_doc()
    changed["layers"][3]["text"] = "Summer Sale!"
    assert design_hash(changed) != design_hash(doc)
    cjk = make_doc()
    cjk["layers"][3]["text"] = "新品上市"
    assert design_hash(cjk) == design_hash(copy.deepcopy(cjk))


def test_design_inputs_lists_every_file():
    doc = make_doc()
    assert design_inputs(doc) == {SHA_A, SHA_B}
    doc["layers"][0]["source"] = {"type": "image", "sha256": SHA_C}
    doc["layers"][3]["font"] = SHA_C
    assert design_inputs(doc) == {SHA_A, SHA_B, SHA_C}
