"""What generating a campaign would cost before anything is queued: slots, GPU jobs and an
estimate of GPU time. Mirrors campaigns.services.campaign_generate without creating jobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from rendering.models import Background, PromptTemplate


def gpu_seconds_per_job() -> float:
    """The per-job figure, ADSTUDIO_GPU_SECONDS_PER_JOB: 30 s (what docs/benchmarks.md assumes
    until an H200 figure is recorded there) unless an operator measured another."""
    return float(settings.ADSTUDIO_GPU_SECONDS_PER_JOB)


@dataclass
class GenerateEstimate:
    slots: int = 0
    picture_renders: int = 0  # one GPU render per slot and variant (picture templates)
    scene_masters: int = 0  # one painted scene per product, variant and scene prompt
    compositions: int = 0  # layered designs composed on the CPU (fill and scene templates)
    strip_formats: list = field(default_factory=list)  # scene formats that may need outpaints
    missing_kinds: list = field(default_factory=list)  # kinds with no template: cannot generate
    seconds_per_job: float = 30.0

    @property
    def gpu_jobs(self) -> int:
        return self.picture_renders + self.scene_masters

    @property
    def gpu_seconds(self) -> float:
        return self.gpu_jobs * self.seconds_per_job

    @property
    def gpu_minutes(self) -> int:
        return -(-int(self.gpu_seconds) // 60)  # rounded up


def template_for_kind(kind: str, *, brand_id, chosen, pool):
    """The template a slot of ``kind`` uses (the rule of campaign_generate): the campaign's
    own for the kind, else the workspace's; a brand-specific one before a general one."""
    for candidates in (chosen, pool):
        matches = sorted((t for t in candidates if t.kind == kind),
                         key=lambda t: t.brand_id != brand_id)
        for template in matches:
            if template.brand_id in (None, brand_id):
                return template
    return None


def generate_estimate(*, workspace, brand, products: int, formats, variants: int,
                      templates=()) -> GenerateEstimate:
    """The jobs a first generate of this choice would make (one query: the templates)."""
    formats, chosen = list(formats), list(templates)
    pool = list(PromptTemplate.objects.filter(workspace=workspace).order_by("id"))
    brand_id = getattr(brand, "pk", brand)
    estimate = GenerateEstimate(slots=products * len(formats),
                                seconds_per_job=gpu_seconds_per_job())
    scene_templates = set()
    limit = settings.ADSTUDIO_SCENE_MAX_ASPECT
    for fmt in formats:
        template = template_for_kind(fmt.kind, brand_id=brand_id, chosen=chosen, pool=pool)
        if template is None:
            if fmt.kind not in estimate.missing_kinds:
                estimate.missing_kinds.append(fmt.kind)
            continue
        if template.background == Background.PICTURE:
            estimate.picture_renders += products * variants
            continue
        estimate.compositions += products * variants
        if template.background == Background.SCENE:
            # Templates with the same words share one scene (campaign_generate's key).
            scene_templates.add((template.body, template.negative_prompt))
            if not 1 / limit <= fmt.width / fmt.height <= limit:
                estimate.strip_formats.append(fmt)
    estimate.scene_masters = products * variants * len(scene_templates)
    return estimate
