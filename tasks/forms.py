from django import forms

from raters.models import Membership
from tasks import export
from tasks import schema as schemas

KIND_CHOICES = [(k, label) for k, label in schemas.KIND_LABELS.items()]


class ProjectForm(forms.Form):
    """Name, instructions and overlap; the label schema comes from `schema_from_post`."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial=schemas.SINGLE_CHOICE)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Short instructions shown above every item.",
    )
    overlap = forms.IntegerField(
        min_value=1, max_value=100, initial=3, help_text="How many raters label each item."
    )


def _rows(post, *names: str) -> list[dict]:
    """Rows of a repeated group of inputs (choice_value, choice_label, ...), blanks dropped."""
    columns = [post.getlist(name) for name in names]
    n = max((len(c) for c in columns), default=0)
    rows = []
    for i in range(n):
        row = {
            name: (c[i] if i < len(c) else "").strip()
            for name, c in zip(names, columns, strict=True)
        }
        if any(row.values()):
            rows.append(row)
    return rows


def _int(post, name: str, default=None):
    raw = (post.get(name) or "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return raw  # schema_validate names the field and the allowed range


def schema_from_post(kind: str, post) -> dict:
    """The schema editor's inputs as a schema dict; schema_validate checks it."""
    schema: dict = {}
    if kind in (schemas.SINGLE_CHOICE, schemas.MULTI_CHOICE):
        schema["choices"] = [
            {
                "value": r["choice_value"] or r["choice_label"],
                "label": r["choice_label"],
                "hotkey": r["choice_hotkey"],
                "description": r["choice_description"],
            }
            for r in _rows(
                post, "choice_value", "choice_label", "choice_hotkey", "choice_description"
            )
        ]
        if kind == schemas.MULTI_CHOICE:
            for field in ("min_selected", "max_selected"):
                value = _int(post, field)
                if value is not None:
                    schema[field] = value
    elif kind == schemas.LIKERT:
        schema["scale"] = _int(post, "scale", 5)
        schema["low_label"] = post.get("low_label", "").strip() or "Poor"
        schema["high_label"] = post.get("high_label", "").strip() or "Excellent"
        schema["dimensions"] = [
            {"name": r["dimension_name"], "label": r["dimension_label"]}
            for r in _rows(post, "dimension_name", "dimension_label")
        ]
    elif kind == schemas.PAIRWISE:
        schema["allow_tie"] = bool(post.get("allow_tie"))
        schema["allow_both_bad"] = bool(post.get("allow_both_bad"))
        schema["strength"] = post.get("strength", "none")
        schema["rationale"] = post.get("rationale", "optional")
        schema["flags"] = [
            {"value": r["flag_value"] or r["flag_label"], "label": r["flag_label"]}
            for r in _rows(post, "flag_value", "flag_label")
        ]
    elif kind == schemas.RANKING:
        schema["min_responses"] = _int(post, "min_responses", schemas.MIN_RESPONSES)
        schema["max_responses"] = _int(post, "max_responses", schemas.MAX_RESPONSES)
        schema["allow_ties"] = bool(post.get("allow_ties"))
    elif kind == schemas.DEMONSTRATION:
        schema["min_length"] = _int(post, "min_length", 1)
        schema["show_draft"] = bool(post.get("show_draft"))
    return schema


def field_label(field: str) -> str:
    """A schema error's field as people read it: choices[1].hotkey -> Choice 2, hotkey."""
    import re

    def part(m):
        return f"{m.group(1).rstrip('s').replace('_', ' ').capitalize()} {int(m.group(2)) + 1}"

    text = re.sub(r"(\w+)\[(\d+)\]", part, field)
    return text.replace(".", ", ").replace("_", " ")


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="JSONL (one JSON object per line), a JSON array of objects, or CSV with a "
        "header row."
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("items_jsonl", "Items, JSONL"),
            ("items_csv", "Items, CSV"),
            ("preference_jsonl", "Preference pairs (DPO / reward model), JSONL"),
        ]
    )
    annotations = forms.BooleanField(
        required=False, initial=True, label="Include every raw annotation"
    )
    ties = forms.ChoiceField(
        choices=[("exclude", "Leave ties out"), ("mark", "Keep ties, marked")],
        initial="exclude",
        label="Ties (preference pairs)",
    )

    def options(self) -> export.ExportOptions:
        return export.ExportOptions(
            format=self.cleaned_data["format"],
            annotations=self.cleaned_data["annotations"],
            ties=self.cleaned_data["ties"],
        )


class GuidelineForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16}),
        label="Guidelines (Markdown)",
        help_text="Markdown: headings, lists, tables, links, code. Raw HTML is removed.",
    )
