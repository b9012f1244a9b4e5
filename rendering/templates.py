"""Prompt templates and custom formats: save (checked, versioned, with revisions), delete.
No torch here: the web process edits templates."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from core.versioning import values_apply
from rendering.compose.copy_rules import template_copy_validate
from rendering.compose.prompts import validate_template_body
from rendering.signals import template_changed

logger = logging.getLogger(__name__)


def format_create(*, workspace, user, name: str, width: int, height: int, kind: str,
                  channel: str = "Custom"):
    """A custom output size for one workspace (B12: sizes outside the range are refused)."""
    from django.utils.text import slugify

    from brands.audit import audit_record
    from rendering.compose.formats import validate_format_size
    from rendering.models import Format

    validate_format_size(width, height)
    key = slugify(f"{name}-{width}x{height}")[:60]
    with transaction.atomic():
        fmt = Format.objects.create(
            workspace=workspace, key=key, name=name, channel=channel, kind=kind,
            width=width, height=height,
        )
        audit_record(workspace_id=workspace.pk, actor=user, verb="format.created", obj=fmt,
                     data={"key": key, "width": width, "height": height, "kind": kind})
    return fmt


def prompt_template_save(*, workspace, user, name: str, kind: str, body: str,
                         negative_prompt: str = "", brand=None, template=None,
                         text_mode: str = "native", headline: str = "", subline: str = "",
                         cta: str = "", show_price: bool = False,
                         background: str = "picture"):
    """Create or update a prompt template after checking it (B11); a new body or new copy is
    a new version, and every version is kept as a revision. ``text_mode`` and the copy lines
    say which words the ad carries and who draws them (rendering/compose/ad_copy.py);
    ``background`` whether each ad is one picture the model draws or a layered design over a
    brand fill (rendering/design/), composed without a GPU."""
    from brands.audit import audit_record
    from rendering.models import Background, PromptTemplate, PromptTemplateRevision

    validate_template_body(body)
    if background not in Background.values:
        raise ValidationError({"background": [
            f"Choose one of {', '.join(Background.values)} (got {background!r})."]})
    copy = {"text_mode": text_mode, "headline": headline, "subline": subline, "cta": cta,
            "show_price": show_price, "background": background}
    for field in ("headline", "subline", "cta"):
        try:
            validate_template_body(copy[field])
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from None
    # Line breaks, control characters, length and glyphs no font has (B14).
    template_copy_validate(text_mode=text_mode, brand=brand,
                           lines={f: copy[f] for f in ("headline", "subline", "cta")})
    with transaction.atomic():
        if template is None:
            template = PromptTemplate.objects.create(
                workspace=workspace, name=name, kind=kind, body=body,
                negative_prompt=negative_prompt, brand=brand, **copy,
            )
            audit_record(workspace_id=workspace.pk, actor=user, verb="template.created",
                         obj=template, data={"name": name, "version": template.version})
        else:
            template = PromptTemplate.objects.select_for_update().get(
                pk=template.pk, workspace=workspace
            )
            old_version = template.version
            # A new body or new copy is a new version; a new name, kind or brand is not.
            changed = values_apply(
                template, {"body": body, "negative_prompt": negative_prompt, **copy},
                unversioned={"name": name, "kind": kind,
                             "brand_id": brand.pk if brand is not None else None})
            template.brand = brand
            template.save()
            if template.version != old_version:  # assets rendered from the old prompt are
                template_changed.send(sender=PromptTemplate, template=template,  # out of date
                                      old_version=old_version)
            if changed:
                audit_record(workspace_id=workspace.pk, actor=user, verb="template.changed",
                             obj=template, data={"changed": changed, "version": template.version})
        PromptTemplateRevision.objects.get_or_create(
            template=template, version=template.version,
            defaults={"body": body, "negative_prompt": negative_prompt},
        )
        return template


def prompt_template_delete(*, template, user) -> None:
    """Delete a prompt template with its revisions. Refused while a campaign has chosen it;
    assets keep the prompt they were rendered from in their recipes."""
    from brands.audit import audit_record
    from rendering.models import PromptTemplate

    with transaction.atomic():
        template = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        users = list(template.campaigns.values_list("name", flat=True))
        if users:
            shown = ", ".join(f"“{name}”" for name in users[:3])
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            raise ValidationError(
                f"{template.name} is chosen in the campaign{'s' if len(users) > 1 else ''} "
                f"{shown}{more}. Remove it from {'those campaigns' if len(users) > 1 else 'it'} "
                "first.", code="template_in_use")
        audit_record(workspace_id=template.workspace_id, actor=user, verb="template.deleted",
                     obj=template, data={"name": template.name, "version": template.version})
        template.delete()


def prompt_template_background_set(*, template, user, upload):
    """Set the picture under an "image" template's layers: checked like every image upload
    (brands.uploads: format, size, pixels, no SVG), stored re-encoded without metadata; a new
    version of the template, so its ads go stale and are recomposed on the CPU. Raises
    ValidationError with a sentence for the user; nothing changes then."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from brands.audit import audit_record
    from brands.uploads import UploadRejected, clean_image_upload, storage_key
    from core.files import files_delete_on_commit
    from rendering.models import PromptTemplate, PromptTemplateRevision

    try:
        image = clean_image_upload(upload, purpose="photo")
    except UploadRejected as exc:
        raise ValidationError({"background_image": [exc.message]}) from exc
    key = default_storage.save(storage_key(workspace_id=template.workspace_id,
                                           folder="backgrounds", extension=image.extension),
                               ContentFile(image.content))
    try:
        with transaction.atomic():
            current = PromptTemplate.objects.select_for_update().get(pk=template.pk)
            old_file, old_version = current.background_image.name, current.version
            values_apply(current, {"background_image_sha256": image.sha256})
            current.background_image = key
            current.save()
            if current.version != old_version:
                PromptTemplateRevision.objects.get_or_create(
                    template=current, version=current.version,
                    defaults={"body": current.body, "negative_prompt": current.negative_prompt})
                template_changed.send(sender=PromptTemplate, template=current,
                                      old_version=old_version)
            audit_record(workspace_id=current.workspace_id, actor=user,
                         verb="template.background_image_set", obj=current,
                         data={"sha256": image.sha256, "size": [image.width, image.height],
                               "version": current.version})
            files_delete_on_commit([old_file] if old_file and old_file != key else [])
    except Exception:
        default_storage.delete(key)
        raise
    return current
