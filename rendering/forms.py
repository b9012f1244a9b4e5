from django import forms

from .models import AssetKind


class PromptTemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=AssetKind.choices)
    brand = forms.ModelChoiceField(queryset=None, required=False,
                                   help_text="Leave empty to use it for every brand.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=4000)
    negative_prompt = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = workspace.brand_kits.all()


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
