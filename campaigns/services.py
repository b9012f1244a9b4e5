"""Campaign use cases: create a campaign, generate its renders."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from rendering.jobs import jobs_publish, quota_check
from rendering.models import JobStatus, PromptTemplate, RenderJob
from rendering.prompts import compose_prompt
from rendering.recipes import batch_key, compose_recipe

from .models import Campaign, CampaignStatus, Slot

logger = logging.getLogger(__name__)


def campaign_create(*, workspace, user, name: str, brand, products: Iterable, formats: Iterable,
                    variants_per_slot: int = 1, language: str = "en", templates=(),
                    starts_on=None, ends_on=None) -> Campaign:
    """A campaign with one slot per product x format."""
    products, formats, templates = list(products), list(formats), list(templates)
    for obj in [brand, *products, *templates]:
        if obj.workspace_id != workspace.id:
            raise ValidationError("Brand, products and templates must be in this workspace.")
    for fmt in formats:
        if fmt.workspace_id not in (None, workspace.id):
            raise ValidationError("Formats must be presets or this workspace's own.")
    if not products or not formats:
        raise ValidationError("Pick at least one product and one format.")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError("The campaign cannot end before it starts.")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            workspace=workspace, brand=brand, name=name, created_by=user,
            variants_per_slot=variants_per_slot, language=language,
            starts_on=starts_on, ends_on=ends_on,
        )
        campaign.full_clean()
        campaign.products.set(products)
        campaign.formats.set(formats)
        campaign.templates.set(templates)
        Slot.objects.bulk_create(
            Slot(campaign=campaign, product=p, format=f) for p in products for f in formats
        )
        return campaign


def _template_chooser(campaign: Campaign):
    """Pick a slot's template: the campaign's own for the format's kind, else the workspace's
    (brand-specific first, then the general one)."""
    chosen = list(campaign.templates.all())
    pool = list(PromptTemplate.objects.filter(workspace=campaign.workspace).order_by("id"))

    def choose(kind: str) -> PromptTemplate:
        for candidates in (chosen, pool):
            matches = [t for t in candidates if t.kind == kind]
            for template in sorted(matches, key=lambda t: t.brand_id != campaign.brand_id):
                if template.brand_id in (None, campaign.brand_id):
                    return template
        raise ValidationError(
            f"No prompt template for {kind} formats. Add one under Templates, then generate again."
        )

    return choose


@dataclass(frozen=True)
class GenerateResult:
    jobs: list[RenderJob]


def campaign_generate(*, campaign: Campaign, user, slots: Iterable[Slot] | None = None,
                      variants: int | None = None, seed: int | None = None,
                      refresh=None) -> GenerateResult:
    """Queue ``variants_per_slot`` renders for every slot (or the given ones).

    All recipes are composed first (a template or banned-term problem changes nothing), the jobs
    are created in one transaction, and they are published to the GPU queue after it commits.
    """
    quota_check(campaign.workspace)
    brand = campaign.brand
    choose = _template_chooser(campaign)
    if slots is None:
        slots = campaign.slots.select_related("product", "format").order_by("id")
    jobs = []
    for slot in slots:
        template = choose(slot.format.kind)
        composed = compose_prompt(
            template=template, brand=brand, product=slot.product, campaign=campaign,
            format=slot.format, language=campaign.language,
        )
        for variant in range(variants or campaign.variants_per_slot):
            recipe = compose_recipe(
                composed=composed, format=slot.format, template=template, brand=brand,
                product=slot.product, seed=None if seed is None else seed + variant,
            )
            jobs.append(RenderJob(
                workspace_id=campaign.workspace_id, slot=slot, created_by=user,
                variant=variant, recipe=recipe, status=JobStatus.QUEUED,
                batch_key=batch_key(recipe), refresh=refresh,
                attempt_limit=settings.ADSTUDIO_JOB_MAX_ATTEMPTS,
            ))
    with transaction.atomic():
        RenderJob.objects.bulk_create(jobs)
        if campaign.status == CampaignStatus.DRAFT:
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE)
        job_ids = [job.pk for job in jobs]
        # The broker only hears of jobs that exist: publish after commit.
        transaction.on_commit(lambda: jobs_publish(job_ids))
    return GenerateResult(jobs=jobs)
