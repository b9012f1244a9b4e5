import pytest

from tests.factories import BrandKitFactory


@pytest.mark.django_db
def test_factories_make_a_brand_kit_with_its_primary_color():
    brand = BrandKitFactory()
    assert brand.color("primary") == "#0A4F8C"


@pytest.mark.django_db
def test_the_suite_hashes_passwords_with_md5_and_a_test_can_switch_back(settings):
    from django.contrib.auth.hashers import check_password, make_password

    from tests.factories import PASSWORD, UserFactory

    user = UserFactory()  # tests/conftest.py: fast hashing for every test
    assert user.password.startswith("md5$") and user.check_password(PASSWORD)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    real = make_password(PASSWORD)
    assert real.startswith("pbkdf2_sha256$") and check_password(PASSWORD, real)


@pytest.mark.django_db
def test_slot_and_job_factories_keep_everything_in_one_workspace():
    from rendering.models import JobStatus
    from tests.factories import RenderJobFactory, SlotFactory

    slot = SlotFactory(format_key="meta-feed")
    assert slot.product.workspace == slot.campaign.workspace and slot.format.key == "meta-feed"
    job = RenderJobFactory(slot=slot)
    assert (job.workspace, job.status, job.recipe) == (slot.campaign.workspace,
                                                         JobStatus.QUEUED, {})
    assert RenderJobFactory().workspace != slot.campaign.workspace  # no slot: a new workspace
