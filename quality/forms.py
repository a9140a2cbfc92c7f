import json

from django import forms

from quality.models import GoldItem, QualityPolicy
from quality.services import POLICY_FIELDS
from raters.services import RATER_ACTIONS


class PolicyForm(forms.ModelForm):
    class Meta:
        model = QualityPolicy
        fields = [f.name for f in QualityPolicy._meta.fields if f.name in POLICY_FIELDS]


class GoldForm(forms.Form):
    pool = forms.ChoiceField(choices=GoldItem.Pool.choices)
    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='The item as JSON, e.g. {"text": "..."}.',
    )
    answer = forms.CharField(
        help_text='The accepted answer as JSON, e.g. "positive" or '
        '{"accept": ["A"], "strength": null}.'
    )
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sections = forms.CharField(
        required=False,
        help_text="The guideline sections it tests, by slug, comma-separated (e.g. sarcasm).",
    )

    def clean_sections(self):
        return [s.strip() for s in self.cleaned_data["sections"].split(",") if s.strip()]

    def _json(self, field):
        try:
            return json.loads(self.cleaned_data[field])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc.msg}") from None

    def clean_data(self):
        return self._json("data")

    def clean_answer(self):
        return self._json("answer")


class GoldImportForm(forms.Form):
    pool = forms.ChoiceField(choices=GoldItem.Pool.choices)
    file = forms.FileField(help_text="JSONL: each line an item plus answer and explanation.")


class RaterActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in RATER_ACTIONS])
    reason = forms.CharField(max_length=500)
