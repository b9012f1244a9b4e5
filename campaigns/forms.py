from django import forms
from django.db.models import Q

from rendering.models import Format


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
