"""Campaign use cases: create, change, archive and delete a campaign; generate its renders."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from brands.audit import audit_record
from campaigns.models import Campaign, CampaignStatus, RefreshSchedule, Slot
from campaigns.scene_reuse import scene_reused
from core.files import files_delete_on_commit
from rendering.compose.copy_rules import copy_problems
from rendering.compose.prompts import compose_prompt
from rendering.compose.recipes import compose_recipe, new_seed
from rendering.compose.style import brand_style
from rendering.design.recipe import design_problems, design_recipe
from rendering.design.scene_recipe import scene_prompt
from rendering.jobs.enqueue import jobs_cancel_unfinished, jobs_create, quota_check
from rendering.jobs.scene_jobs import scene_format, scene_jobs_create
from rendering.models import (
    Asset,
    Background,
    JobKind,
    JobStatus,
    PromptTemplate,
    RenderJob,
    ReviewState,
)

logger = logging.getLogger(__name__)

# Templates whose ads are layered designs, composed on the CPU (a scene is painted first).
LAYERED = (Background.FILL, Background.SCENE, Background.PLAIN, Background.IMAGE)
PAINTED = (Background.SCENE, Background.PLAIN)  # a background the model paints first


def _check_choices(workspace, *, brand=None, products, formats, templates, starts_on,
                   ends_on) -> None:
    for obj in [*([brand] if brand else []), *products, *templates]:
        if obj.workspace_id != workspace.id:
            raise ValidationError("Brand, products and templates must be in this workspace.")
    for fmt in formats:
        if fmt.workspace_id not in (None, workspace.id):
            raise ValidationError("Formats must be presets or this workspace's own.")
    if not products or not formats:
        raise ValidationError("Pick at least one product and one format.")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError("The campaign cannot end before it starts.")


def campaign_create(*, workspace, user, name: str, brand, products: Iterable, formats: Iterable,
                    variants_per_slot: int = 1, language: str = "en", templates=(),
                    starts_on=None, ends_on=None) -> Campaign:
    """A campaign with one slot per product x format."""
    products, formats, templates = list(products), list(formats), list(templates)
    _check_choices(workspace, brand=brand, products=products, formats=formats,
                   templates=templates, starts_on=starts_on, ends_on=ends_on)
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
        audit_record(workspace_id=workspace.pk, actor=user, verb="campaign.created",
                     obj=campaign, data={"name": name, "slots": len(products) * len(formats)})
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
                      refresh=None, reuse_scenes: bool = False) -> GenerateResult:
    """Queue ``variants_per_slot`` renders for every slot (or the given ones).

    All recipes are composed first (a template or banned-term problem, or copy that cannot be
    set, such as a character no font has, changes nothing), the jobs are created in one
    transaction, and they are published to the GPU queue after it commits. Scene templates
    paint one scene per product and variant first (rendering/jobs/scene_jobs.py);
    ``reuse_scenes`` (stale fixes) recomposes a slot on the scene its last ad was cut from
    when what the picture is painted from has not changed: no GPU job.
    """
    if campaign.status == CampaignStatus.ARCHIVED:
        raise ValidationError(f"{campaign.name} is archived, so nothing new is rendered for it. "
                              "Unarchive it first.", code="campaign_archived")
    quota_check(campaign.workspace)
    brand = campaign.brand
    choose = _template_chooser(campaign)
    if slots is None:
        slots = campaign.slots.select_related("product", "format").order_by("id")
    jobs, problems, style = [], {}, brand_style(brand)
    # (product, variant, prompt): the scene's prompt and its formats' compositions
    scenes: dict[tuple, tuple] = {}
    for slot in slots:
        template = choose(slot.format.kind)
        # A layered design needs no prompt: only the model's pictures are prompted.
        composed = None if template.background == Background.FILL else compose_prompt(
            template=template, brand=brand, product=slot.product, campaign=campaign,
            format=slot.format, language=campaign.language,
        )
        for variant in range(variants or campaign.variants_per_slot):
            if template.background in LAYERED:  # a layered design: the cpu queue
                recipe = design_recipe(template=template, brand=brand, product=slot.product,
                                       format=slot.format, language=campaign.language,
                                       variant=variant)
                if variant == 0:  # B14 before any job: copy no font draws, a layout misfit
                    problems.update(dict.fromkeys(
                        f"{slot.product.name} ({slot.format.name}): {p}" for p in
                        [*copy_problems(recipe["copy"], mode="overlay", style=style).values(),
                         *design_problems(recipe)]))
                job = RenderJob(workspace_id=campaign.workspace_id, slot=slot,
                                created_by=user, variant=variant, recipe=recipe,
                                refresh=refresh, kind=JobKind.COMPOSE)
                around = template.background == Background.SCENE  # painted around the cut-out
                if template.background in PAINTED and reuse_scenes and (
                        scene_reused(job, composed, around_product=around)):
                    jobs.append(job)  # the scene it was painted on still fits: recompose
                elif template.background in PAINTED:  # waits for its painted background
                    # One per product, variant, kind and prompt (templates of several kinds
                    # with the same words share it).
                    key = (slot.product_id, variant, around, composed.prompt,
                           composed.negative_prompt)
                    scenes.setdefault(key, (composed, []))[1].append(job)
                else:
                    jobs.append(job)
                continue
            recipe = compose_recipe(
                composed=composed, format=slot.format, template=template, brand=brand,
                product=slot.product, seed=None if seed is None else seed + variant,
            )
            if variant == 0:  # B14: copy that cannot be set is refused before any job exists
                problems.update(dict.fromkeys(
                    f"{slot.product.name} ({slot.format.name}): {p}" for p in copy_problems(
                        recipe["copy"], mode=recipe["text_mode"],
                        style=style).values()))
            jobs.append(RenderJob(workspace_id=campaign.workspace_id, slot=slot,
                                  created_by=user, variant=variant, recipe=recipe,
                                  refresh=refresh))
    if problems:
        raise ValidationError(list(problems)[:20], code="copy_unsettable")
    with transaction.atomic():
        jobs_create(jobs)
        for (_product, variant, around, *_words), (composed, group) in scenes.items():
            prompt, negative = scene_prompt(composed, around_product=around)
            jobs += scene_jobs_create(formats=[scene_format(j) for j in group], prompt=prompt,
                                      negative_prompt=negative, around_product=around,
                                      seed=new_seed() if seed is None else seed + variant)
        if campaign.status == CampaignStatus.DRAFT:
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE)
    return GenerateResult(jobs=jobs)


CAMPAIGN_FIELDS = ("name", "starts_on", "ends_on", "variants_per_slot", "products", "formats",
                   "templates")
_UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def campaign_update(*, campaign: Campaign, user, **fields) -> Campaign:
    """Change a campaign's name, dates, variants per slot, products, formats or templates.

    New products and formats get their slots. Removing a product or format removes its slots
    (their unfinished renders are cancelled), unless one of them already has assets: then
    nothing changes and the error says which slots keep them.
    """
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related(
            "workspace").get(pk=campaign.pk)
        products = list(fields.get("products", campaign.products.all()))
        formats = list(fields.get("formats", campaign.formats.all()))
        templates = list(fields.get("templates", campaign.templates.all()))
        values = {key: fields.get(key, getattr(campaign, key))
                  for key in ("name", "starts_on", "ends_on", "variants_per_slot")}
        _check_choices(campaign.workspace, products=products, formats=formats,
                       templates=templates, starts_on=values["starts_on"],
                       ends_on=values["ends_on"])
        if not 1 <= values["variants_per_slot"] <= 8:
            raise ValidationError({"variants_per_slot": ["Choose 1 to 8 variants per slot."]})
        if values["name"] != campaign.name and Campaign.objects.filter(
                workspace_id=campaign.workspace_id, name=values["name"]).exists():
            raise ValidationError({"name": ["A campaign with this name already exists."]})

        wanted = {(p.pk, f.pk) for p in products for f in formats}
        slots = list(campaign.slots.select_related("product", "format"))
        leaving = [slot for slot in slots if (slot.product_id, slot.format_id) not in wanted]
        if leaving:
            jobs_cancel_unfinished(RenderJob.objects.filter(slot__in=leaving))
            _refuse_removing_slots_with_assets(leaving)
            Slot.objects.filter(pk__in=[slot.pk for slot in leaving]).delete()
        have = {(slot.product_id, slot.format_id) for slot in slots}
        Slot.objects.bulk_create(Slot(campaign=campaign, product_id=p, format_id=f)
                                 for p, f in sorted(wanted - have))

        changed = [key for key, value in values.items() if getattr(campaign, key) != value]
        for key in changed:
            setattr(campaign, key, values[key])
        if changed:
            campaign.save(update_fields=changed)
        changed += [key for key, chosen in (("products", products), ("formats", formats),
                                            ("templates", templates))
                    if key in fields and set(getattr(campaign, key).values_list("pk", flat=True))
                    != {obj.pk for obj in chosen}]
        campaign.products.set(products)
        campaign.formats.set(formats)
        campaign.templates.set(templates)
        schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
        if schedule is not None:  # a schedule only refreshes formats the campaign still has
            schedule.formats.remove(*schedule.formats.exclude(pk__in=[f.pk for f in formats]))
        if changed or leaving or wanted - have:  # a save that changes nothing is not recorded
            audit_record(workspace_id=campaign.workspace_id, actor=user,
                         verb="campaign.changed", obj=campaign, data={
                             "changed": changed, "slots_added": len(wanted - have),
                             "slots_removed": len(leaving)})
    return campaign


def _refuse_removing_slots_with_assets(slots: list[Slot]) -> None:
    from django.db.models import Count

    counts = dict(Asset.objects.filter(slot__in=slots).values_list("slot_id")
                  .annotate(n=Count("id")).values_list("slot_id", "n"))
    kept = [f"{slot.product.name} × {slot.format.name} ({counts[slot.pk]} "
            f"asset{'s' if counts[slot.pk] > 1 else ''})" for slot in slots if slot.pk in counts]
    if kept:
        raise ValidationError(
            "These slots already have assets, so their product and format must stay in the "
            f"campaign: {'; '.join(kept[:5])}{' and more' if len(kept) > 5 else ''}. "
            "Keep them, or start a new campaign without them.", code="slots_have_assets")


def campaign_archive(*, campaign: Campaign, user) -> Campaign:
    """Archive a campaign: its assets stay and can be exported, but nothing new is rendered
    for it and its refresh schedule stops."""
    return _campaign_set_archived(campaign, user, archived=True)


def campaign_unarchive(*, campaign: Campaign, user) -> Campaign:
    """Bring an archived campaign back: it can render again and its schedule resumes."""
    return _campaign_set_archived(campaign, user, archived=False)


def _campaign_set_archived(campaign: Campaign, user, *, archived: bool) -> Campaign:
    from campaigns.refresh import refresh_beat_sync

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if archived == (campaign.status == CampaignStatus.ARCHIVED):
            raise ValidationError(f"{campaign.name} is {'already' if archived else 'not'} "
                                  "archived.", code="illegal_transition")
        old = campaign.status
        if archived:
            campaign.status = CampaignStatus.ARCHIVED
        else:
            rendered = RenderJob.objects.filter(slot__campaign=campaign).exists()
            campaign.status = CampaignStatus.ACTIVE if rendered else CampaignStatus.DRAFT
        campaign.save(update_fields=["status"])
        refresh_beat_sync(campaign)
        audit_record(workspace_id=campaign.workspace_id, actor=user,
                     verb="campaign.archived" if archived else "campaign.unarchived",
                     obj=campaign, data={"from": old, "to": campaign.status})
    return campaign


def campaign_delete(*, campaign: Campaign, user) -> None:
    """Delete a campaign with its slots, renders, assets and schedule; the asset files go
    once the deletion commits. Unfinished renders are cancelled. A campaign with approved
    assets (they may be running in ads) must be archived first."""
    from campaigns.refresh import refresh_beat_remove

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        jobs_cancel_unfinished(RenderJob.objects.filter(slot__campaign=campaign))
        assets = Asset.objects.filter(slot__campaign=campaign)
        approved = assets.filter(review_state=ReviewState.APPROVED).count()
        if approved and campaign.status != CampaignStatus.ARCHIVED:
            raise ValidationError(
                f"{campaign.name} has {approved} approved asset{'s' if approved > 1 else ''} "
                "that may be running in ads. Archive the campaign first, then delete it.",
                code="campaign_has_live_assets")
        files = [name for pair in assets.values_list("file", "thumbnail") for name in pair]
        audit_record(workspace_id=campaign.workspace_id, actor=user, verb="campaign.deleted",
                     obj=campaign, data={"name": campaign.name, "status": campaign.status,
                                         "assets": len(files) // 2})
        refresh_beat_remove(campaign.pk)
        campaign.delete()
        files_delete_on_commit(files)
