"""Dashboard forms for brand kits, products and members. They parse input; services apply
rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from brands.currencies import CURRENCY_CHOICES
from brands.models import LogoPosition, Role
from brands.palette import format_palette, parse_palette
from brands.product_fields import ProductFieldErrors, clean_product_data
from brands.signals import layout_ids


def _split(value: str, sep: str = ",") -> list[str]:
    return [part.strip() for part in value.replace("\n", sep).split(sep) if part.strip()]


class BrandKitForm(forms.Form):
    name = forms.CharField(max_length=120)
    palette = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False,
        help_text="One color per line: role name #hex (roles: primary, secondary, accent, "
                  "background, text).",
    )
    style_keywords = forms.CharField(max_length=500, required=False, help_text="Comma-separated.")
    tone = forms.CharField(max_length=300, required=False)
    logo_position = forms.ChoiceField(choices=LogoPosition.choices)
    contact_line = forms.CharField(max_length=200, required=False)
    disclaimer = forms.CharField(max_length=500, required=False)
    banned_terms = forms.CharField(max_length=1000, required=False, help_text="Comma-separated.")
    negative_prompt = forms.CharField(max_length=1000, required=False)
    languages = forms.MultipleChoiceField(
        choices=[("en", "English"), ("zh", "Chinese")], initial=["en"],
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_layouts = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Preferred layouts",
        help_text="For each shape of ad, the first one ticked lays out the brand's composed "
                  "ads (none: the default of each shape; other variants take the others).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_layouts"].choices = [
            (layout, layout.replace(".", ": ")) for layout in layout_ids()]

    @classmethod
    def initial_for(cls, brand) -> dict:
        return {
            "name": brand.name, "palette": format_palette(brand.palette),
            "style_keywords": ", ".join(brand.style_keywords), "tone": brand.tone,
            "logo_position": brand.logo_position, "contact_line": brand.contact_line,
            "disclaimer": brand.disclaimer, "banned_terms": ", ".join(brand.banned_terms),
            "negative_prompt": brand.negative_prompt, "languages": brand.languages,
            "preferred_layouts": brand.preferred_layouts,
        }

    def clean_palette(self):
        return parse_palette(self.cleaned_data["palette"])

    def clean_style_keywords(self):
        return _split(self.cleaned_data["style_keywords"])

    def clean_banned_terms(self):
        return _split(self.cleaned_data["banned_terms"])


class FontUploadForm(forms.Form):
    """Shown on the brand kit page beside the kit's own form: ids start with "font_" so that
    no two inputs on the page share one (the posted names stay "file")."""

    file = forms.FileField(label="Font (TTF or OTF)", widget=forms.FileInput(
        attrs={"accept": ".ttf,.otf,font/ttf,font/otf"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "font_%s")
        super().__init__(*args, **kwargs)


class LogoUploadForm(forms.Form):
    """On the brand kit page too: ids start with "logo_" (the kit's form has its own name)."""

    name = forms.CharField(max_length=120, required=False, label="Logo name")
    file = forms.FileField(label="Logo (PNG or WebP with transparency)", widget=forms.FileInput(
        attrs={"accept": "image/png,image/webp"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "logo_%s")
        super().__init__(*args, **kwargs)


class PhotoUploadForm(forms.Form):
    file = forms.FileField(label="Photo (PNG, JPEG or WebP)")


class CutoutUploadForm(forms.Form):
    """A replacement cut-out for one photo; made with ``prefix=f"cutout-{photo.pk}"`` so that
    each photo's form on the product page has its own input ids."""

    file = forms.FileField(
        label="Replacement cut-out (PNG or WebP with a transparent background)",
        widget=forms.FileInput(attrs={"accept": "image/png,image/webp"}),
    )

    @classmethod
    def for_photo(cls, photo, *args, **kwargs) -> CutoutUploadForm:
        return cls(*args, prefix=f"cutout-{photo.pk}", **kwargs)


class ProductForm(forms.Form):
    sku = forms.CharField(max_length=64, label="SKU")
    name = forms.CharField(max_length=150)
    slogan = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    price = forms.CharField(max_length=20)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="USD")
    features = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                               help_text="One per line.")
    landing_url = forms.CharField(max_length=2000, required=False, label="Landing URL")

    @classmethod
    def initial_for(cls, product) -> dict:
        return {
            "sku": product.sku, "name": product.name, "slogan": product.slogan,
            "description": product.description, "price": str(product.price),
            "currency": product.currency, "features": "\n".join(product.features),
            "landing_url": product.landing_url,
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["data"] = clean_product_data({**cleaned, "image_url": ""})
        except ProductFieldErrors as exc:
            for field, messages in exc.errors.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class FeedImportForm(forms.Form):
    file = forms.FileField(label="Product feed (CSV, Google Merchant Center columns)")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if not uploaded.name.lower().endswith((".csv", ".tsv", ".txt")):
            raise ValidationError("Upload a .csv file (Merchant Center column names).")
        return uploaded


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MARKETER)


class InvitationAccountForm(forms.Form):
    """A new account for an invitee whose address has none (the address comes from the
    invitation)."""

    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="Letters, digits and @/./+/-/_ only.")
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput,
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="Password again", strip=False,
                                widget=forms.PasswordInput)

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = get_user_model()(username=cleaned.get("username", ""), email=self.email)
            try:
                password_validation.validate_password(first, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class FeedSourceForm(forms.ModelForm):
    """A feed source's settings; brands.feed_sources.feed_source_save checks and applies them."""

    upload = forms.FileField(required=False, label="Feed file (when the source is a file)")
    url = forms.URLField(max_length=2000, required=False, assume_scheme="https", label="Feed URL")

    class Meta:
        from brands.models import FeedSource

        model = FeedSource
        fields = ["name", "kind", "url", "format", "full_feed", "auth", "auth_username",
                  "auth_header_name", "auth_secret_ref", "schedule", "schedule_cron",
                  "schedule_timezone"]
        labels = {"full_feed": "Full feed: products it no longer lists "
                  "become unavailable", "auth_secret_ref": "Secret (environment variable)",
                  "schedule_cron": "Cron expression", "schedule_timezone": "Time zone"}
        help_texts = {"auth_secret_ref": "e.g. env:SHOP_FEED_TOKEN; an operator sets the "
                      "variable on the workers. The secret itself is never stored here."}
