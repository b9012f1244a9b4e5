"""factory_boy factories for the domain models."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from brands.models import BrandKit, Membership, Product, Role, Workspace
from campaigns.models import Campaign, Slot
from rendering.models import AssetKind, Format, PromptTemplate, RenderJob

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MARKETER


class BrandKitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandKit

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")
    palette = factory.LazyFunction(lambda: [
        {"name": "Ocean", "hex": "#0A4F8C", "role": "primary"},
        {"name": "Coral", "hex": "#FF6F61", "role": "accent"},
        {"name": "Sand", "hex": "#F5EFE6", "role": "background"},
        {"name": "Ink", "hex": "#1B1B1B", "role": "text"},
    ])
    style_keywords = factory.LazyFunction(lambda: ["clean", "sunlit", "minimal"])
    tone = "Friendly and confident"
    negative_prompt = "blurry, low quality, watermark"
    languages = factory.LazyFunction(lambda: ["en"])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slogan = "Made to last"
    price = Decimal("19.99")
    currency = "USD"
    features = factory.LazyFunction(lambda: ["waterproof", "recycled steel"])


class PromptTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptTemplate

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = AssetKind.BANNER
    name = factory.Sequence(lambda n: f"Template {n}")
    body = "A banner for {{ product.name }} by {{ brand.name }}"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    brand = factory.SubFactory(BrandKitFactory, workspace=factory.SelfAttribute("..workspace"))
    name = factory.Sequence(lambda n: f"Campaign {n}")


class SlotFactory(factory.django.DjangoModelFactory):
    """A campaign slot: a product of the campaign's workspace in one built-in format
    (``format_key``, or pass ``format=``)."""

    class Meta:
        model = Slot

    class Params:
        format_key = "gdn-medium-rectangle"

    campaign = factory.SubFactory(CampaignFactory)
    product = factory.SubFactory(
        ProductFactory, workspace=factory.SelfAttribute("..campaign.workspace"))
    format = factory.LazyAttribute(lambda slot: Format.objects.get(key=slot.format_key))


class RenderJobFactory(factory.django.DjangoModelFactory):
    """A render job (queued unless ``status=``) with an empty recipe, in its slot's workspace
    when it has a slot."""

    class Meta:
        model = RenderJob

    slot = None
    workspace = factory.Maybe(
        "slot", yes_declaration=factory.SelfAttribute("slot.campaign.workspace"),
        no_declaration=factory.SubFactory(WorkspaceFactory))
    recipe = factory.LazyFunction(dict)


def asset_make(*, slot=None, author=None, workspace=None, color=(200, 40, 40), size=(64, 48),
               parent=None, **fields):
    """A stored asset (PNG file, thumbnail, a succeeded job by ``author``), as a render makes
    it, without running the model."""
    import hashlib
    import io
    import uuid

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    from rendering.models import Asset, JobKind, JobStatus

    workspace = workspace or slot.campaign.workspace
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    content = buffer.getvalue()
    key = f"ws/{workspace.pk}/assets/test/{uuid.uuid4().hex}"
    file = default_storage.save(f"{key}.png", ContentFile(content))
    thumb = default_storage.save(f"{key}.thumb.png", ContentFile(content))
    job = RenderJobFactory(
        workspace=workspace, slot=slot, created_by=author, status=JobStatus.SUCCEEDED,
        kind=JobKind.EDIT if parent else JobKind.GENERATE, source_asset=parent,
        recipe={"seed": 7, "prompt": "test", "negative_prompt": " ", "steps": 2,
                "true_cfg_scale": 4.0, "output_size": list(size), "format": {"dpi": None}},
    )
    return Asset.objects.create(
        workspace=workspace, slot=slot, job=job, file=file, thumbnail=thumb, width=size[0],
        height=size[1], sha256=hashlib.sha256(content).hexdigest(), recipe=job.recipe,
        parent=parent, version=parent.version + 1 if parent else 1, **fields)
