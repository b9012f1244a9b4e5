from django import forms
from django.db.models import Q

from campaigns.format_packs import PACKS, format_groups, pack_format_ids
from rendering.models import AssetKind, Format


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=150)
    brand = forms.ModelChoiceField(queryset=None)
    products = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    formats = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    variants_per_slot = forms.IntegerField(min_value=1, max_value=8, initial=1)
    language = forms.ChoiceField(choices=[("en", "English"), ("zh", "Chinese")])
    starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = workspace.brand_kits.all()
        self.fields["products"].queryset = workspace.products.all()
        self.fields["formats"].queryset = Format.objects.filter(
            Q(workspace=None) | Q(workspace=workspace)
        )
        # One template choice per kind that has templates; none chosen: the workspace default.
        kinds = set(workspace.prompt_templates.values_list("kind", flat=True))
        for kind, label in AssetKind.choices:
            if kind in kinds:
                self.fields[f"template_{kind}"] = forms.ModelChoiceField(
                    queryset=workspace.prompt_templates.filter(kind=kind), required=False,
                    label=f"{label} formats", empty_label="Workspace default")

    @property
    def template_fields(self):
        return [self[name] for name in self.fields if name.startswith("template_")]

    def format_context(self) -> dict:
        """What the form page shows of the formats: the groups by channel, the ids checked
        now, and the channel packs with their format ids."""
        formats = list(self.fields["formats"].queryset)
        ids = pack_format_ids(formats)
        return {"format_groups": format_groups(formats),
                "checked_formats": {str(getattr(v, "pk", v))
                                    for v in (self["formats"].value() or [])},
                "packs": [{"key": p.key, "label": p.label, "ids": ids[p.key]}
                          for p in PACKS if p.key in ids]}

    def clean(self):
        cleaned = super().clean()
        kinds = [name for name in list(cleaned) if name.startswith("template_")]
        cleaned["templates"] = [cleaned.pop(name) for name in kinds if cleaned.get(name)]
        for name in kinds:
            cleaned.pop(name, None)
        return cleaned


class CampaignEditForm(CampaignForm):
    """What can change after creation: the brand kit and language stay."""

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        del self.fields["brand"], self.fields["language"]

    @staticmethod
    def initial_for(campaign) -> dict:
        return {"name": campaign.name, "products": list(campaign.products.all()),
                "formats": list(campaign.formats.all()),
                "variants_per_slot": campaign.variants_per_slot,
                "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
                **{f"template_{t.kind}": t for t in campaign.templates.all()}}


class RefreshScheduleForm(forms.Form):
    """A refresh schedule: a preset (weekly, daily), a cron expression, or an interval."""

    MODES = [("weekly", "Weekly"), ("daily", "Daily"), ("cron", "Cron expression"),
             ("interval", "Every N minutes")]
    mode = forms.ChoiceField(choices=MODES, initial="weekly")
    weekday = forms.ChoiceField(choices=[(d, d.capitalize()) for d in
                                         ("mon", "tue", "wed", "thu", "fri", "sat", "sun")],
                                required=False, initial="mon")
    at = forms.TimeField(required=False, initial="09:00", label="At (local time)",
                         widget=forms.TimeInput(attrs={"type": "time"}))
    cron = forms.CharField(max_length=100, required=False,
                           help_text="minute hour day month weekday, e.g. 0 9 * * 1")
    interval_minutes = forms.IntegerField(required=False, min_value=1, max_value=60 * 24 * 31)
    timezone = forms.CharField(max_length=64, initial="UTC",
                               help_text="A time zone name such as Europe/Berlin.")
    formats = forms.ModelMultipleChoiceField(queryset=None, required=False,
                                             widget=forms.CheckboxSelectMultiple,
                                             help_text="None chosen: every slot.")
    variants = forms.IntegerField(min_value=1, max_value=8, initial=1)
    enabled = forms.BooleanField(required=False, initial=True)
    auto_rerender_stale = forms.BooleanField(
        required=False, label="Render stale assets again automatically")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["formats"].queryset = campaign.formats.all()

    def clean(self):
        from campaigns.refresh import preset_cron

        cleaned = super().clean()
        mode = cleaned.get("mode")
        at = cleaned.get("at")
        if mode in ("weekly", "daily"):
            if at is None:
                self.add_error("at", "Pick a time.")
                return cleaned
            cleaned["kind"] = "cron"
            cleaned["cron"] = preset_cron(mode, hour=at.hour, minute=at.minute,
                                          weekday=cleaned.get("weekday") or "mon")
        elif mode == "cron":
            cleaned["kind"] = "cron"
        elif mode == "interval":
            if not cleaned.get("interval_minutes"):
                self.add_error("interval_minutes", "How many minutes between refreshes?")
                return cleaned
            cleaned["kind"] = "interval"
        cleaned["interval_seconds"] = (cleaned.get("interval_minutes") or 0) * 60 or None
        return cleaned
