"""Scene ads: the model paints one scene around the product's real cut-out per product and
variant (QwenImageInpaintPipeline on the tiny model), every format is cut from it or
outpainted from it, and the layers are laid out again for each size. A price change
recomposes on the same scene with no GPU job."""

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.models import Membership, Role
from brands.services import brand_logo_add, product_photo_add, product_save
from campaigns.services import campaign_create, campaign_generate
from campaigns.staleness import campaign_rerender_stale
from rendering.models import (
    Asset,
    BackgroundLayer,
    CheckKind,
    Format,
    JobKind,
    JobQueue,
    JobStatus,
    QualityCheck,
    RenderJob,
)
from rendering.templates import prompt_template_save
from tests.campaigns.test_composed_ads import _data, _logo
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "test-output" / "scenes"
FORMATS = ["gdn-medium-rectangle", "responsive-landscape", "meta-story", "gdn-mobile-banner",
           "gdn-leaderboard"]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


# Most tests need one cut format and one outpainted one (the 728x90 strip with its product).
SMALL = ["gdn-medium-rectangle", "gdn-leaderboard"]


@pytest.fixture
def scene_formats():
    return SMALL


@pytest.fixture
def scene_shop(catalog, commit, tiny_model, scene_formats):
    """One product with the coffee photo, in four formats, with a scene template."""
    workspace, brand, products, _ = catalog
    product = products[0]
    product_save(user=None, workspace=workspace, product=product,
                 data=_data(product, name="Pikolo espresso cup", price="12.50"))
    product.refresh_from_db()
    photo = (ROOT / "campaigns" / "sample_photos" / "coffee.jpg").read_bytes()
    with commit():
        product_photo_add(product=product, user=None,
                          uploaded=SimpleUploadedFile("coffee.jpg", photo))
    brand_logo_add(brand=brand, user=None, name="Mark",
                   uploaded=SimpleUploadedFile("mark.png", _logo()))
    formats = list(Format.objects.filter(workspace=None, key__in=scene_formats))
    # One template per kind of format, with the same scene: they share one master.
    templates = [prompt_template_save(
        user=None, workspace=workspace, name=f"Cafe scene ({kind})", kind=kind,
        body="an espresso cup on a marble cafe table, morning light",
        headline="{{ product.name }}", cta="Shop now", show_price=True, text_mode="overlay",
        background="scene") for kind in sorted({f.kind for f in formats})]
    campaign = campaign_create(user=None, workspace=workspace, name="Cafe", brand=brand,
                               products=[product], formats=formats, templates=templates)
    return campaign, product


def _latest(campaign) -> dict[str, Asset]:
    return {a.slot.format.key: a for a in Asset.objects.filter(slot__campaign=campaign)
            .select_related("slot__format").order_by("id")}


def _pixels(name: str) -> np.ndarray:
    with default_storage.open(name, "rb") as handle:
        return np.asarray(Image.open(handle).convert("RGB")).astype(int)


@pytest.mark.parametrize("scene_formats", [FORMATS])
def test_one_master_per_product_and_every_format_cut_from_it(scene_shop, commit):
    campaign, product = scene_shop
    with commit():
        jobs = campaign_generate(campaign=campaign, user=None, seed=7).jobs
    backgrounds = [j for j in jobs if j.kind == JobKind.BACKGROUND]
    masters = [j for j in backgrounds if j.recipe["derive"] == "scene"]
    outpaints = [j for j in backgrounds if j.recipe["derive"] == "outpaint"]
    composes = [j for j in jobs if j.kind == JobKind.COMPOSE]
    assert len(masters) == 1 and len(composes) == len(FORMATS)
    # The 728x90 strip shows far more scene beside its product than the master holds; the
    # 320x50 has no room for the product, so any nearby cut of the scene will do.
    assert [j.recipe["for_format"] for j in outpaints] == ["gdn-leaderboard"]
    assert {j.queue for j in backgrounds} == {JobQueue.GPU}
    assert all(j.waits_for_id for j in composes)
    assert set(RenderJob.objects.filter(slot__campaign=campaign).values_list(
        "status", flat=True)) == {JobStatus.SUCCEEDED}
    master = BackgroundLayer.objects.get(recipe_sha256=masters[0].recipe["scene_sha256"])
    assert master.recipe["cutout"]["sha256"] == product.photos.get().cutout_sha256
    assets = _latest(campaign)
    assert set(assets) == set(FORMATS)
    OUT.mkdir(parents=True, exist_ok=True)
    master_pixels = Image.open(default_storage.open(master.file.name, "rb")).convert("RGB")
    master_pixels.save(OUT / "master.png")
    for key, asset in assets.items():
        scene = asset.recipe["scene"]
        assert scene["master"] == master.recipe_sha256
        assert scene["derive"] == ("outpaint" if key == "gdn-leaderboard" else "scene")
        assert scene["aligned"], key  # the product sits on the scene where it was painted
        source = asset.design["layers"][0]["source"]
        assert source["type"] == "image" and source["sha256"] == scene["sha256"]
        with default_storage.open(asset.file.name, "rb") as handle:
            (OUT / f"{key}.png").write_bytes(handle.read())
        checks = {c.kind: c for c in QualityCheck.objects.filter(asset=asset)}
        assert checks[CheckKind.TEXT].status == "pass", checks[CheckKind.TEXT].reason
        if any(la["kind"] == "product" for la in asset.design["layers"]):
            assert checks[CheckKind.PRODUCT].status == "pass", checks[CheckKind.PRODUCT].reason


@pytest.mark.parametrize("scene_formats", [["gdn-medium-rectangle", "responsive-landscape"]])
def test_a_cropped_format_shows_the_masters_own_pixels(scene_shop, commit):
    """Master and derived format share one background: outside the layers above it, the
    300x250 is the master's crop, scaled, pixel for pixel (the overlap test)."""
    campaign, _ = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    asset = _latest(campaign)["gdn-medium-rectangle"]
    layer = BackgroundLayer.objects.get(recipe_sha256=asset.recipe["scene"]["layer"])
    master = Image.open(default_storage.open(layer.file.name, "rb")).convert("RGB")
    x, y, w, h = asset.recipe["scene"]["crop"]
    expected = np.asarray(master.resize((asset.width, asset.height), Image.Resampling.LANCZOS,
                                        box=(x, y, x + w, y + h))).astype(int)
    composed = _pixels(asset.file.name)
    free = np.ones(composed.shape[:2], dtype=bool)  # pixels no layer above the background paints
    for la in asset.design["layers"][1:]:
        if "box" in la:
            bx, by, bw, bh = la["box"]
            free[max(0, by - 40):by + bh + 40, max(0, bx - 40):bx + bw + 40] = False
    assert free.sum() > 1000
    assert np.array_equal(composed[free], expected[free])
    # And the scene is the master's: another format's crop maps to the same master pixels.
    other = _latest(campaign)["responsive-landscape"]
    assert other.recipe["scene"]["sha256"] == asset.recipe["scene"]["sha256"]


def test_an_outpainted_format_keeps_the_master_exact_where_it_reaches(scene_shop, commit):
    campaign, _ = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    strip = _latest(campaign)["gdn-leaderboard"]
    out = BackgroundLayer.objects.get(recipe_sha256=strip.recipe["scene"]["layer"])
    master = BackgroundLayer.objects.get(recipe_sha256=out.recipe["master"])
    px, py, pw, ph = out.recipe["placement"]
    placed = Image.open(default_storage.open(master.file.name, "rb")).convert("RGB").resize(
        (pw, ph), Image.Resampling.LANCZOS)
    painted = _pixels(out.file.name)
    left, top = max(0, px), max(0, py)
    right, bottom = min(out.width, px + pw), min(out.height, py + ph)
    kept = painted[top:bottom, left:right]
    want = np.asarray(placed).astype(int)[top - py:bottom - py, left - px:right - px]
    assert kept.size and np.array_equal(kept, want)
    assert out.width / out.height > master.width / master.height  # it reaches further


def test_generating_again_with_the_same_seed_paints_nothing_new(scene_shop, commit):
    campaign, _ = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    painted = BackgroundLayer.objects.count()
    with commit():
        again = campaign_generate(campaign=campaign, user=None, seed=7).jobs
    assert {j.kind for j in again} == {JobKind.COMPOSE}  # the scenes are cached by recipe
    assert BackgroundLayer.objects.count() == painted


def test_a_price_change_recomposes_on_the_same_scene_with_no_gpu_job(scene_shop, commit):
    campaign, product = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    before = _latest(campaign)
    gpu_jobs = RenderJob.objects.filter(queue=JobQueue.GPU).count()
    marketer = UserFactory()
    Membership.objects.create(user=marketer, workspace=campaign.workspace, role=Role.MARKETER)
    product_save(user=None, workspace=campaign.workspace, product=product,
                 data=_data(product, price="9.99"))
    assert all("recompose" in a.stale_reason for a in
               Asset.objects.filter(pk__in=[a.pk for a in before.values()]))
    with commit():
        result = campaign_rerender_stale(campaign=campaign, user=marketer)
    assert {j.kind for j in result.jobs} == {JobKind.COMPOSE}
    assert RenderJob.objects.filter(queue=JobQueue.GPU).count() == gpu_jobs  # zero new
    for key, asset in _latest(campaign).items():
        assert asset.pk != before[key].pk
        assert asset.recipe["scene"]["sha256"] == before[key].recipe["scene"]["sha256"]
        assert [la["text"] for la in asset.design["layers"] if la.get("role") == "price"] \
            == ["$9.99"]
    assert product.price == Decimal("12.50")


def test_F17_a_failed_scene_fails_the_compositions_waiting_for_it_with_the_reason(
        scene_shop, commit):
    campaign, product = scene_shop
    photo = product.photos.get()
    jobs = campaign_generate(campaign=campaign, user=None, seed=3).jobs  # not run yet
    master = next(j for j in jobs if j.kind == JobKind.BACKGROUND
                  and j.recipe["derive"] == "scene")
    default_storage.delete(photo.cutout.name)  # the cut-out goes before the scene is painted
    with commit():
        from rendering.jobs.run import render_next
        render_next(worker="test")
    master.refresh_from_db()
    assert master.status == JobStatus.FAILED and "gone" in master.error
    waiting = RenderJob.objects.filter(slot__campaign=campaign).exclude(pk=master.pk)
    assert set(waiting.values_list("status", flat=True)) == {JobStatus.FAILED}
    errors = list(waiting.values_list("error", flat=True))
    # Each says which background it waited for and why that one failed (through outpaints).
    assert all(e.startswith("The background this job waits for") and "gone" in e
               for e in errors), errors
    assert any(f"job {master.pk}" in e for e in errors)
    assert not Asset.objects.filter(slot__campaign=campaign).exists()


@pytest.mark.parametrize("scene_formats", [["responsive-landscape", "gdn-leaderboard"]])
def test_an_edit_by_instruction_changes_the_scene_and_keeps_the_layers_exact(
        scene_shop, commit, tiny_edit_model):
    """Qwen-Image-Edit(-Plus) edits the background layer (with the cut-out as its reference
    image); the product, logo and copy go back on top: the product check still passes, and a
    later recomposition is laid on the edited scene."""
    from campaigns.review import asset_edit

    campaign, product = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    source = _latest(campaign)["responsive-landscape"]
    marketer = UserFactory()
    Membership.objects.create(user=marketer, workspace=campaign.workspace, role=Role.MARKETER)
    with commit():
        job = asset_edit(asset=source, user=marketer, instruction="make the table dark walnut")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    edited = Asset.objects.get(job=job)
    assert edited.parent_id == source.pk and edited.version == 2 and edited.design
    assert edited.recipe["product_reference"] is True
    layer = BackgroundLayer.objects.get(recipe_sha256=edited.recipe["scene"]["layer"])
    assert layer.recipe["derive"] == "edit" and layer.recipe["edit_of"]["asset"] == source.pk
    # Only the background changed: every other layer is the source's, byte for byte.
    assert edited.design["layers"][1:] == source.design["layers"][1:]
    assert edited.design["layers"][0]["source"]["sha256"] == layer.sha256 != \
        source.design["layers"][0]["source"]["sha256"]
    checks = {c.kind: c for c in QualityCheck.objects.filter(asset=edited)}
    assert checks[CheckKind.PRODUCT].status == "pass", checks[CheckKind.PRODUCT].reason
    assert checks[CheckKind.TEXT].status == "pass", checks[CheckKind.TEXT].reason
    with default_storage.open(edited.file.name, "rb") as handle:
        (OUT / "responsive-landscape-edited.png").parent.mkdir(parents=True, exist_ok=True)
        (OUT / "responsive-landscape-edited.png").write_bytes(handle.read())
    # A new price later: recomposed on the edited scene, not on the original one.
    product_save(user=None, workspace=campaign.workspace, product=product,
                 data=_data(product, price="9.99"))
    with commit():
        result = campaign_rerender_stale(campaign=campaign, user=marketer)
    assert {j.kind for j in result.jobs} == {JobKind.COMPOSE}
    again = _latest(campaign)["responsive-landscape"]
    assert again.recipe["scene"]["sha256"] == layer.sha256


def test_a_saved_design_of_a_scene_ad_keeps_its_scene(scene_shop, commit):
    from campaigns.design_edits import asset_design_save

    campaign, _ = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    source = _latest(campaign)["gdn-medium-rectangle"]
    marketer = UserFactory()
    Membership.objects.create(user=marketer, workspace=campaign.workspace, role=Role.MARKETER)
    def headline(text):
        return {**source.design, "layers": [
            {**la, "text": text} if la.get("role") == "headline" else la
            for la in source.design["layers"]]}

    index = next(i for i, la in enumerate(source.design["layers"]) if la.get("role")
                 == "headline")
    with pytest.raises(ValidationError) as excinfo:  # refused before any job: a clear 400
        asset_design_save(asset=source, user=marketer, design=headline("Supercalifragilistic"))
    assert f"layers[{index}].text" in excinfo.value.message_dict
    assert not RenderJob.objects.filter(source_asset=source).exists()
    design = headline("Pikolo cup")
    with commit():
        job = asset_design_save(asset=source, user=marketer, design=design)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    saved = Asset.objects.get(job=job)
    assert saved.design["layers"][0] == source.design["layers"][0]  # the same scene and cut
    assert RenderJob.objects.filter(queue=JobQueue.GPU, created_at__gt=job.created_at
                                    ).count() == 0


def test_a_new_cut_out_needs_a_new_scene_and_a_new_prompt_too(scene_shop, commit):
    """Staleness says which path a scene ad takes: a new product cut-out (or a new scene
    prompt) re-renders the scene on a GPU; a price change only recomposes."""
    from brands.cutouts import photo_cutout_replace
    from campaigns.staleness import RECOMPOSE_NOTE, RERENDER_NOTE

    campaign, product = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    ids = [a.pk for a in _latest(campaign).values()]
    cut = Image.new("RGBA", (200, 160), (0, 0, 0, 0))
    cut.paste((200, 30, 30, 255), (40, 30, 160, 150))
    buffer = io.BytesIO()
    cut.save(buffer, format="PNG")
    marketer = UserFactory()
    Membership.objects.create(user=marketer, workspace=campaign.workspace, role=Role.MARKETER)
    photo_cutout_replace(photo=product.photos.get(), user=marketer,
                         upload=SimpleUploadedFile("cut.png", buffer.getvalue()))
    reasons = set(Asset.objects.filter(pk__in=ids).values_list("stale_reason", flat=True))
    assert len(reasons) == 1 and reasons.pop().startswith("product photo changed (cut-out ")
    assert all(r.endswith(RERENDER_NOTE) for r in
               Asset.objects.filter(pk__in=ids).values_list("stale_reason", flat=True))
    gpu = RenderJob.objects.filter(queue=JobQueue.GPU).count()
    with commit():
        result = campaign_rerender_stale(campaign=campaign, user=marketer)
    assert JobKind.BACKGROUND in {j.kind for j in result.jobs}
    assert RenderJob.objects.filter(queue=JobQueue.GPU).count() > gpu
    fresh = _latest(campaign)
    assert all(a.recipe["cutout"]["sha256"] == product.photos.get().cutout_sha256
               for a in fresh.values())
    # And now a price: the fresh scene stays, a recompose is enough.
    product_save(user=None, workspace=campaign.workspace, product=product,
                 data=_data(product, price="8.00"))
    assert all(r.endswith(RECOMPOSE_NOTE) for r in Asset.objects.filter(
        pk__in=[a.pk for a in fresh.values()]).values_list("stale_reason", flat=True))


def test_F17_a_cancelled_scene_fails_its_waiting_jobs_and_a_retry_queues_them_again(
        scene_shop):
    from rendering.jobs.states import job_cancel, job_retry

    campaign, _ = scene_shop
    jobs = campaign_generate(campaign=campaign, user=None, seed=5).jobs  # nothing run
    master = next(j for j in jobs if j.kind == JobKind.BACKGROUND
                  and j.recipe["derive"] == "scene")
    others = RenderJob.objects.filter(slot__campaign=campaign).exclude(pk=master.pk)
    job_cancel(job=master)
    assert set(others.values_list("status", flat=True)) == {JobStatus.FAILED}
    job_retry(job=master)  # the scene again: what failed because of it waits for it again
    assert set(others.values_list("status", flat=True)) == {JobStatus.QUEUED}
    assert not any(others.values_list("error", flat=True))


def test_F6_a_scene_whose_attempt_was_superseded_stores_nothing(scene_shop, settings):
    from rendering.jobs.states import job_claim_next
    from rendering.jobs.store import store_background

    campaign, _ = scene_shop
    campaign_generate(campaign=campaign, user=None, seed=5)
    [claim] = job_claim_next(worker="old", queue=JobQueue.GPU)
    job = RenderJob.objects.get(pk=claim.job_id)
    # The lease ran out and another attempt took the job over.
    RenderJob.objects.filter(pk=job.pk).update(attempt=claim.attempt + 1)
    media = Path(settings.MEDIA_ROOT)
    files_before = {p for p in media.rglob("*") if p.is_file()}
    assert store_background(claim, Image.new("RGB", tuple(job.recipe["output_size"])),
                            job.recipe, gpu_seconds=1.0) is None
    assert not BackgroundLayer.objects.exists()
    assert {p for p in media.rglob("*") if p.is_file()} == files_before  # its file is gone


def test_a_plain_template_paints_one_picture_with_qwen_image_and_puts_the_product_on_top(
        scene_shop, commit, scene_formats):
    campaign, product = scene_shop
    for template in campaign.templates.all():
        template.background = "plain"
        template.save(update_fields=["background"])
    with commit():
        jobs = campaign_generate(campaign=campaign, user=None, seed=9).jobs
    backgrounds = [j for j in jobs if j.kind == JobKind.BACKGROUND]
    # One picture for every format: nothing is painted around the product, so nothing needs
    # outpainting to line up (the 728x90 is a plain cut).
    assert [j.recipe["derive"] for j in backgrounds] == ["plain"]
    assert backgrounds[0].recipe["cutout"] is None
    layer = BackgroundLayer.objects.get(recipe_sha256=backgrounds[0].recipe["scene_sha256"])
    assert layer.recipe["pipeline"] == "QwenImagePipeline"
    assets = _latest(campaign)
    assert set(assets) == set(scene_formats)
    photo = product.photos.get()
    for asset in assets.values():
        assert asset.recipe["scene"]["derive"] == "plain"
        assert asset.recipe["scene"]["aligned"] is None
        products = [la for la in asset.design["layers"] if la["kind"] == "product"]
        assert all(la["sha256"] == photo.cutout_sha256 for la in products)
        if products:
            check = QualityCheck.objects.get(asset=asset, kind=CheckKind.PRODUCT)
            assert check.status == "pass", check.reason
