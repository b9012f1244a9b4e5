import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from campaigns.models import CampaignStatus
from campaigns.services import campaign_create, campaign_generate
from rendering.models import Asset, JobStatus, PromptTemplate, RenderJob
from tests.factories import BrandKitFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _campaign(catalog, **kwargs):
    workspace, brand, products, formats = catalog
    return campaign_create(workspace=workspace, user=UserFactory(), name="Launch", brand=brand,
                           products=products, formats=formats, **kwargs)


def test_campaign_has_one_slot_per_product_and_format(catalog):
    campaign = _campaign(catalog)
    assert campaign.slots.count() == 2 * 4
    pairs = set(campaign.slots.values_list("product_id", "format_id"))
    assert len(pairs) == 8


def test_campaign_refuses_another_workspaces_brand(catalog):
    workspace, _brand, products, formats = catalog
    foreign_brand = BrandKitFactory(workspace=WorkspaceFactory())
    with pytest.raises(ValidationError, match="must be in this workspace"):
        campaign_create(workspace=workspace, user=None, name="x", brand=foreign_brand,
                        products=products, formats=formats)


def test_generate_end_to_end_renders_every_slot_at_its_exact_size(
        catalog, tiny_model, django_capture_on_commit_callbacks):
    campaign = _campaign(catalog, variants_per_slot=2)
    with django_capture_on_commit_callbacks(execute=True):
        result = campaign_generate(campaign=campaign, user=None)
    assert len(result.jobs) == 8 * 2
    assert set(RenderJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assets = Asset.objects.select_related("slot__format")
    assert assets.count() == 16
    for asset in assets:
        fmt = asset.slot.format
        with default_storage.open(asset.file.name) as fh, Image.open(fh) as image:
            assert image.size == (fmt.width, fmt.height) == (asset.width, asset.height)
        recipe = asset.recipe
        assert recipe["output_size"] == [fmt.width, fmt.height]
        assert recipe["model"] == str(tiny_model)
        assert len(recipe["weights_sha256"]) == 64
        assert recipe["steps"] == 2 and recipe["true_cfg_scale"] == 4.0
        assert recipe["template"]["version"] == 1 and recipe["brand"]["version"] == 1
        assert set(recipe["libraries"]) == {"diffusers", "transformers", "torch"}
        assert default_storage.exists(asset.thumbnail.name)
    # Variants of one slot differ by seed.
    seeds = {(a.slot_id, a.recipe["seed"]) for a in assets}
    assert len(seeds) == 16
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_print_assets_carry_their_dpi(catalog, tiny_model, django_capture_on_commit_callbacks):
    campaign = _campaign(catalog)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_generate(campaign=campaign, user=None)
    poster = Asset.objects.get(slot__format__key="print-a4", slot__product=catalog[2][0])
    with default_storage.open(poster.file.name) as fh, Image.open(fh) as image:
        assert round(image.info["dpi"][0]) == 300


def test_jobs_are_published_only_after_the_transaction_commits(
        catalog, tiny_model, django_capture_on_commit_callbacks):
    campaign = _campaign(catalog)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        campaign_generate(campaign=campaign, user=None)
    # Committed rows, nothing rendered yet: the broker has not been rung.
    assert RenderJob.objects.filter(status=JobStatus.QUEUED).count() == 8
    assert not Asset.objects.exists()
    assert len(callbacks) == 1


def test_generate_without_a_template_for_a_kind_creates_nothing(catalog):
    PromptTemplate.objects.filter(kind="poster").delete()
    campaign = _campaign(catalog)
    with pytest.raises(ValidationError, match="No prompt template for poster formats"):
        campaign_generate(campaign=campaign, user=None)
    assert not RenderJob.objects.exists()


def test_generate_with_a_banned_term_creates_nothing(catalog):
    workspace, brand, products, _ = catalog
    brand.banned_terms = [products[1].name]
    brand.save()
    campaign = _campaign(catalog)
    with pytest.raises(ValidationError, match="banned term"):
        campaign_generate(campaign=campaign, user=None)
    assert not RenderJob.objects.exists()


def test_brand_specific_template_wins_over_the_general_one(catalog):
    workspace, brand, _, _ = catalog
    PromptTemplate.objects.create(workspace=workspace, brand=brand, kind="banner",
                                  name="brand banner", body="BRAND {{ product.name }}")
    campaign = _campaign(catalog)
    result = campaign_generate(campaign=campaign, user=None)
    banner_prompts = {j.recipe["prompt"] for j in result.jobs
                      if j.slot.format.kind == "banner"}
    assert all(p.startswith("BRAND ") for p in banner_prompts)
