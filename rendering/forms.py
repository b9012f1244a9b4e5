from django import forms

from rendering.models import AssetKind, Background, TextMode


class PromptTemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=AssetKind.choices)
    brand = forms.ModelChoiceField(queryset=None, required=False,
                                   help_text="Leave empty to use it for every brand.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=4000)
    negative_prompt = forms.CharField(max_length=1000, required=False)
    text_mode = forms.ChoiceField(
        choices=TextMode.choices, initial=TextMode.NATIVE, required=False,
        help_text="Overlay sets the copy exactly in brand fonts; native asks the model to draw "
                  "it (checked by OCR, rendered again when it reads wrong).")
    headline = forms.CharField(max_length=300, required=False,
                               help_text="Template text, e.g. {{ product.name }}.")
    subline = forms.CharField(max_length=500, required=False)
    cta = forms.CharField(max_length=100, required=False, label="Call to action",
                          help_text="The button, e.g. Shop now.")
    show_price = forms.BooleanField(required=False, label="Show the price",
                                    help_text="Formatted for the campaign's language.")
    background = forms.ChoiceField(
        choices=Background.choices, initial=Background.PICTURE, required=False,
        label="What each ad is made of",
        help_text="Layered designs are composed on the CPU, so a new price or headline "
                  "needs no GPU: over a brand fill or an uploaded picture at once; over a "
                  "scene (painted around the product) or a plain picture once the model has "
                  "painted one for each product, shared by every size.")

    background_image = forms.FileField(
        required=False, label="Background image",
        help_text="For an uploaded-picture template: PNG, JPEG or WebP, under the layers of "
                  "every ad (cut to each format). Leave empty to keep the current one.")

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = workspace.brand_kits.all()

    def clean_text_mode(self):
        return self.cleaned_data["text_mode"] or TextMode.NATIVE

    def clean_background(self):
        return self.cleaned_data["background"] or Background.PICTURE


class PreviewForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None)
    brand = forms.ModelChoiceField(queryset=None)
    language = forms.ChoiceField(choices=[("en", "English"), ("zh", "Chinese")])

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = workspace.products.all()
        self.fields["brand"].queryset = workspace.brand_kits.all()


class FormatForm(forms.Form):
    name = forms.CharField(max_length=120)
    width = forms.IntegerField()
    height = forms.IntegerField()
    kind = forms.ChoiceField(choices=AssetKind.choices)
