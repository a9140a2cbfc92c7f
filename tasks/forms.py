from django import forms

from raters.models import Membership


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Short instructions shown above every item.",
    )
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One choice per line. The first nine get the keys 1 to 9.",
    )
    overlap = forms.IntegerField(
        min_value=1, max_value=100, initial=3, help_text="How many raters label each item."
    )

    def clean_choices(self):
        lines = [line.strip() for line in self.cleaned_data["choices"].splitlines()]
        return [line for line in lines if line]


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="JSONL (one JSON object per line) or CSV with a header row.")
