"""Composed ads (a template whose background is a brand fill): the catalog's own product
cut-out and the exact copy in a designed layout, composed on the cpu queue; a price change is
recomposed with no GPU job, and the checks prove the copy and the product exact."""

import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.models import Membership, Role
from brands.product_fields import clean_product_data
from brands.services import brand_logo_add, product_photo_add, product_save
from campaigns.services import campaign_create, campaign_generate
from campaigns.staleness import RECOMPOSE_NOTE, campaign_rerender_stale
from rendering.design.compositor import compose_png
from rendering.design.recipe import recipe_inputs
from rendering.models import (
    Asset,
    CheckKind,
    Format,
    JobKind,
    JobQueue,
    JobStatus,
    QualityCheck,
    RenderJob,
)
from rendering.quality.checks import asset_checks_run
from rendering.templates import prompt_template_save
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "test-output" / "composed"
FORMATS = ["gdn-medium-rectangle", "gdn-mobile-banner", "responsive-landscape"]


def _logo() -> bytes:
    image = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    for x in range(120):
        for y in range(120):
            if (x - 60) ** 2 + (y - 60) ** 2 < 55 ** 2:
                image.putpixel((x, y), (10, 79, 140, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _data(product, **changes):
    raw = {"sku": product.sku, "name": product.name, "slogan": product.slogan,
           "description": product.description, "price": str(product.price),
           "currency": product.currency, "features": product.features, **changes}
    return clean_product_data(raw)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (doorbells, then what their tasks queue) in-process."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(catalog, commit):
    """A campaign of one product with the coffee photo, its brand's logo, and a brand-fill
    template with a headline, a button and the price, in three formats."""
    workspace, brand, products, _ = catalog
    product = products[0]
    product_save(user=None, workspace=workspace, product=product,
                 data=_data(product, name="Pikolo espresso cup", price="12.50"))
    product.refresh_from_db()
    photo = (ROOT / "campaigns" / "sample_photos" / "coffee.jpg").read_bytes()
    with commit():  # its cut-out is made once the photo's row commits
        product_photo_add(product=product, user=None,
                          uploaded=SimpleUploadedFile("coffee.jpg", photo))
    brand_logo_add(brand=brand, user=None, name="Mark",
                   uploaded=SimpleUploadedFile("mark.png", _logo()))
    template = prompt_template_save(
        user=None, workspace=workspace, name="Brand fill", kind="banner",
        body="{{ product.name }}", headline="{{ product.name }}", cta="Shop now",
        show_price=True, text_mode="overlay", background="fill")
    formats = list(Format.objects.filter(workspace=None, key__in=FORMATS))
    campaign = campaign_create(user=None, workspace=workspace, name="Coffee", brand=brand,
                               products=[product], formats=formats, templates=[template])
    return campaign, product


def _latest_assets(campaign) -> dict[str, Asset]:
    assets = {}
    for asset in Asset.objects.filter(slot__campaign=campaign).select_related(
            "slot__format").order_by("id"):
        assets[asset.slot.format.key] = asset
    return assets


def test_generate_composes_every_format_on_the_cpu_with_the_real_product(shop, commit):
    campaign, product = shop
    with commit():
        jobs = campaign_generate(campaign=campaign, user=None).jobs
    assert {(j.kind, j.queue) for j in jobs} == {(JobKind.COMPOSE, JobQueue.CPU)}
    assert len(jobs) == len(FORMATS)
    assert not RenderJob.objects.filter(queue=JobQueue.GPU).exists()
    assert set(RenderJob.objects.filter(pk__in=[j.pk for j in jobs])
               .values_list("status", "gpu_seconds")) == {(JobStatus.SUCCEEDED, 0.0)}
    assets = _latest_assets(campaign)
    assert set(assets) == set(FORMATS)
    OUT.mkdir(parents=True, exist_ok=True)
    photo = product.photos.get()
    for key, asset in assets.items():
        kinds = [layer["kind"] for layer in asset.design["layers"]]
        assert kinds[0] == "background"
        # A 320x50 strip has no room for the product: its offer and button come first.
        assert ("product" in kinds) == (key != "gdn-mobile-banner")
        for layer in asset.design["layers"]:
            if layer["kind"] == "product":
                assert layer["sha256"] == photo.cutout_sha256  # the catalog's own cut-out
        texts = {la["role"]: la["text"] for la in asset.design["layers"] if la["kind"] == "text"}
        assert texts["price"] == "$12.50" and texts["cta"] == "Shop now"  # kept even on 320x50
        with default_storage.open(asset.file.name, "rb") as handle:
            stored = handle.read()
        # Deterministic: the design and its inputs compose the stored bytes again.
        again = compose_png(asset.design, recipe_inputs(asset.recipe),
                            dpi=asset.recipe["format"]["dpi"])
        assert hashlib.sha256(again).hexdigest() == asset.sha256 == hashlib.sha256(
            stored).hexdigest()
        assert asset.design_sha256 and asset.recipe["engine"] == "compose"
        (OUT / f"{key}.png").write_bytes(stored)
        checks = {c.kind: c for c in QualityCheck.objects.filter(asset=asset)}
        assert checks[CheckKind.TEXT].status == "pass", checks[CheckKind.TEXT].reason
        if "product" in kinds:
            assert checks[CheckKind.PRODUCT].status == "pass", checks[CheckKind.PRODUCT].reason


def test_a_price_change_is_recomposed_with_no_gpu_job(shop, commit):
    campaign, product = shop
    with commit():
        campaign_generate(campaign=campaign, user=None)
    before = _latest_assets(campaign)
    marketer = UserFactory()
    Membership.objects.create(user=marketer, workspace=campaign.workspace, role=Role.MARKETER)
    product_save(user=None, workspace=campaign.workspace, product=product,
                 data=_data(product, price="9.99"))
    stale = Asset.objects.filter(pk__in=[a.pk for a in before.values()])
    assert {a.stale_reason for a in stale} == {"price 12.50 -> 9.99" + RECOMPOSE_NOTE}
    with commit():
        result = campaign_rerender_stale(campaign=campaign, user=marketer)
    assert len(result.jobs) == len(FORMATS)
    assert {j.kind for j in result.jobs} == {JobKind.COMPOSE}
    assert not RenderJob.objects.filter(queue=JobQueue.GPU).exists()  # zero GPU jobs
    after = _latest_assets(campaign)
    for key, asset in after.items():
        assert asset.pk != before[key].pk
        prices = [la["text"] for la in asset.design["layers"] if la.get("role") == "price"]
        assert prices == ["$9.99"]
        # The same background, the same product pixels: only the copy moved.
        assert asset.design["layers"][0] == before[key].design["layers"][0]


def test_the_checks_catch_a_changed_file_and_a_changed_product_pixel(shop, commit):
    campaign, _ = shop
    with commit():
        campaign_generate(campaign=campaign, user=None)
    asset = _latest_assets(campaign)["responsive-landscape"]
    layer = next(la for la in asset.design["layers"] if la["kind"] == "product")
    x, y, w, h = layer["box"]
    with default_storage.open(asset.file.name, "rb") as handle:
        image = Image.open(handle).convert("RGB")
    # One pixel in the middle of the product's box (opaque: the cup), one level off.
    cx, cy = x + w // 2, y + h // 2
    r, g, b = image.getpixel((cx, cy))
    image.putpixel((cx, cy), (r ^ 1, g, b))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    name = default_storage.save(asset.file.name + ".tampered.png", ContentFile(buffer.getvalue()))
    Asset.objects.filter(pk=asset.pk).update(file=name)
    checks = {c.kind: c for c in asset_checks_run(asset_id=asset.pk)}
    assert checks[CheckKind.TEXT].status == "fail"
    assert checks[CheckKind.PRODUCT].status == "fail"
    assert "differs from the catalog cut-out in 1 pixels" in checks[CheckKind.PRODUCT].reason


def test_copy_no_font_can_draw_is_refused_before_any_job(shop):
    campaign, product = shop
    product_save(user=None, workspace=campaign.workspace, product=product,
                 data=_data(product, name="Cup \U000f0000"))  # a private-use plane character
    with pytest.raises(ValidationError) as excinfo:
        campaign_generate(campaign=campaign, user=None)
    assert "Cup" in " ".join(excinfo.value.messages)
    assert not RenderJob.objects.filter(slot__campaign=campaign).exists()


def test_a_product_without_a_photo_still_gets_a_designed_ad(catalog, commit):
    workspace, brand, products, _ = catalog
    template = prompt_template_save(
        user=None, workspace=workspace, name="Fill", kind="banner", body="{{ product.name }}",
        headline="{{ product.name }}", cta="Buy", show_price=True, text_mode="overlay",
        background="fill")
    fmt = Format.objects.get(workspace=None, key="gdn-medium-rectangle")
    campaign = campaign_create(user=None, workspace=workspace, name="No photo", brand=brand,
                               products=[products[1]], formats=[fmt], templates=[template])
    with commit():
        [job] = campaign_generate(campaign=campaign, user=None).jobs
    asset = Asset.objects.get(job_id=job.pk)
    assert "product" not in [layer["kind"] for layer in asset.design["layers"]]
    assert products[1].price == Decimal("19.99")
    assert [la["text"] for la in asset.design["layers"] if la.get("role") == "price"] == [
        "$19.99"]


def test_the_api_shows_an_assets_design_and_takes_a_templates_background(shop, commit):
    from tests.api.conftest import api_for

    campaign, _ = shop
    with commit():
        campaign_generate(campaign=campaign, user=None)
    asset = _latest_assets(campaign)["gdn-medium-rectangle"]
    owner = Membership.objects.create(user=UserFactory(), workspace=campaign.workspace,
                                      role=Role.ADMIN)
    api = api_for(owner)
    body = api.get(f"assets/{asset.pk}/").json()
    assert body["design"]["schema"] == "adstudio.design/1"
    assert body["design_sha256"] == asset.design_sha256
    template = campaign.templates.get()
    assert api.get(f"templates/{template.pk}/").json()["background"] == "fill"
    refused = api.patch(f"templates/{template.pk}/", {"background": "hologram"})
    assert refused.status_code == 400 and "background" in refused.json()["errors"]
    kept = api.patch(f"templates/{template.pk}/", {"name": "Brand fill 2"})
    assert kept.status_code == 200
    template.refresh_from_db()  # a rename keeps the copy lines and the background
    assert (template.background, template.cta, template.show_price) == ("fill", "Shop now", True)


def test_a_saved_design_is_composed_as_the_next_version_in_review(shop, commit):
    import copy

    from tests.api.conftest import api_for

    campaign, _ = shop
    with commit():
        campaign_generate(campaign=campaign, user=None)
    asset = _latest_assets(campaign)["responsive-landscape"]
    editor = Membership.objects.create(user=UserFactory(), workspace=campaign.workspace,
                                       role=Role.MARKETER)
    api = api_for(editor)
    design = api.get(f"assets/{asset.pk}/design/").json()["design"]
    headline = next(la for la in design["layers"] if la.get("role") == "headline")
    headline["text"] = "Espresso, anywhere"
    with commit():
        queued = api.put(f"assets/{asset.pk}/design/", {"design": design})
    assert queued.status_code == 202, queued.content
    job = RenderJob.objects.get(pk=queued.json()["id"])
    assert (job.kind, job.queue, job.status) == (JobKind.COMPOSE, JobQueue.CPU,
                                                 JobStatus.SUCCEEDED)
    child = Asset.objects.get(job=job)
    assert (child.parent_id, child.version, child.review_state) == (asset.pk, 2, "in_review")
    assert [la["text"] for la in child.design["layers"] if la.get("role") == "headline"] == [
        "Espresso, anywhere"]
    assert not RenderJob.objects.filter(queue=JobQueue.GPU).exists()
    checks = {c.kind: c.status for c in QualityCheck.objects.filter(asset=child)}
    assert checks[CheckKind.TEXT] == "pass" and checks[CheckKind.PRODUCT] == "pass"

    outside = copy.deepcopy(design)
    outside["layers"][1]["box"] = [1190, 0, 400, 50]
    refused = api.put(f"assets/{asset.pk}/design/", {"design": outside})
    assert refused.status_code == 400 and "layers[1].box" in refused.json()["errors"]
    stranger = copy.deepcopy(design)
    logo = next(la for la in stranger["layers"] if la["kind"] == "logo")
    logo["sha256"] = "0" * 64
    refused = api.put(f"assets/{asset.pk}/design/", {"design": stranger})
    index = stranger["layers"].index(logo)
    assert refused.status_code == 400 and f"layers[{index}].sha256" in refused.json()["errors"]
    same = api.put(f"assets/{asset.pk}/design/", {"design": asset.design})
    assert same.status_code == 400 and "unchanged" in same.content.decode()
    viewer = api_for(Membership.objects.create(user=UserFactory(),
                                               workspace=campaign.workspace, role=Role.VIEWER))
    assert viewer.put(f"assets/{asset.pk}/design/", {"design": design}).status_code == 403
    assert RenderJob.objects.filter(source_asset=asset).count() == 1  # refusals queue nothing


def test_F10_a_malformed_compose_doorbell_is_acknowledged_and_a_broken_recipe_fails_alone(
        shop, commit, caplog):
    from rendering.tasks import compose_job

    campaign, _ = shop
    jobs = campaign_generate(campaign=campaign, user=None).jobs  # queued: no commit yet
    broken, *good = jobs
    RenderJob.objects.filter(pk=broken.pk).update(recipe={"engine": "compose"})
    compose_job.apply(args=["not-a-job", 7], kwargs={"x": 1})  # rings anyway: fair order
    assert "compose_job got malformed arguments" in caplog.text
    for _ in good:
        compose_job.apply(args=[0])
    states = dict(RenderJob.objects.filter(pk__in=[j.pk for j in jobs])
                  .values_list("pk", "status"))
    assert states[broken.pk] == JobStatus.FAILED
    assert "the recipe lacks output_size" in RenderJob.objects.get(pk=broken.pk).error
    assert {states[j.pk] for j in good} == {JobStatus.SUCCEEDED}
    assert Asset.objects.filter(job_id__in=[j.pk for j in good]).count() == len(good)


def test_F6_a_composition_whose_attempt_was_superseded_stores_nothing(shop, monkeypatch):
    from django.db.models import F

    from rendering.jobs import compose_run

    campaign, _ = shop
    [first, *_] = campaign_generate(campaign=campaign, user=None).jobs
    real = compose_run.compose

    def compose_while_the_lease_is_lost(design, inputs):
        # Meanwhile the reconciler requeued the job and another worker claimed it.
        RenderJob.objects.filter(pk=first.pk).update(attempt=F("attempt") + 1)
        return real(design, inputs)

    monkeypatch.setattr(compose_run, "compose", compose_while_the_lease_is_lost)
    assert compose_run.compose_next(worker="late") is None
    assert not Asset.objects.filter(job_id=first.pk).exists()
    folder = Path(default_storage.path(f"ws/{first.workspace_id}/assets/{first.pk}"))
    assert [f for f in folder.rglob("*") if f.is_file()] == []  # its files went with it
    assert RenderJob.objects.get(pk=first.pk).status == JobStatus.RUNNING  # the newer attempt's


def test_the_brand_kit_picks_its_preferred_layouts(shop, commit):
    """A brand kit prefers layouts by id: each aspect class takes the first one of its own
    listed; an unknown id is refused naming the field; a change makes the ads stale."""
    from brands.services import brand_kit_save

    campaign, _ = shop
    brand = campaign.brand
    with pytest.raises(ValidationError) as excinfo:
        brand_kit_save(workspace=campaign.workspace, user=None, brand=brand,
                       preferred_layouts=["wide.sideways"])
    assert "preferred_layouts" in excinfo.value.message_dict
    brand.refresh_from_db()
    assert brand.preferred_layouts == []
    with commit():
        campaign_generate(campaign=campaign, user=None)
    before = _latest_assets(campaign)
    assert before["responsive-landscape"].design["layout"] == "wide.split"
    brand = brand_kit_save(workspace=campaign.workspace, user=None, brand=brand,
                           preferred_layouts=["rectangle.mirror", "wide.mirror"])
    assert all(a.stale_reason.endswith(RECOMPOSE_NOTE) for a in
               Asset.objects.filter(pk__in=[a.pk for a in before.values()]))
    campaign = type(campaign).objects.get(pk=campaign.pk)  # with the brand kit as saved
    with commit():
        campaign_generate(campaign=campaign, user=None)
    after = _latest_assets(campaign)
    assert after["responsive-landscape"].design["layout"] == "wide.mirror"
    assert after["gdn-medium-rectangle"].design["layout"] == "rectangle.mirror"
    assert after["gdn-mobile-banner"].design["layout"] == "strip.row"  # its class's only one
