from django import forms

from raters.models import Membership
from tasks import export, kinds
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


def schema_from_post(kind: str, post) -> dict:
    """The schema editor's inputs as a schema dict; schema_validate checks it."""
    return kinds.get(kind).schema_from_form(post)


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


class MembersAddForm(forms.Form):
    usernames = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "alice\nbob,manager"}),
        required=False,
        help_text="One username a line; add ,manager or ,annotator to give a line its own role.",
    )
    file = forms.FileField(required=False, help_text="or a .txt or .csv file of the same lines")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)

    def text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return self.cleaned_data.get("usernames") or ""
        raw = upload.read(1_000_000 + 1)
        if len(raw) > 1_000_000:
            raise forms.ValidationError("The file is over 1 MB.")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


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
            ("unpaired_jsonl", "Unpaired preferences (KTO), JSONL"),
            *((fmt, title) for fmt, (title, _, _) in export.KIND_FORMATS.items()),
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

    conversational = forms.ChoiceField(
        choices=[
            ("auto", "Message lists if any prompt is a chat"),
            ("yes", "Always message lists"),
            ("no", "Always plain text"),
        ],
        initial="auto",
        required=False,
        label="Prompt, chosen and rejected (preference pairs)",
    )

    def options(self) -> export.ExportOptions:
        return export.ExportOptions(
            format=self.cleaned_data["format"],
            annotations=self.cleaned_data["annotations"],
            ties=self.cleaned_data["ties"],
            conversational=self.cleaned_data["conversational"] or "auto",
        )


class GuidelineForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16}),
        label="Guidelines (Markdown)",
        help_text="Markdown: headings, lists, tables, links, code. Raw HTML is removed.",
    )
