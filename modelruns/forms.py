from django import forms

ID_FIELDS = [("item_id", "item ids (database)"), ("external_id", "external ids")]


class ModelRunUploadForm(forms.Form):
    name = forms.CharField(max_length=200)
    version = forms.CharField(max_length=100, required=False)
    file = forms.FileField(
        help_text="JSONL: one line per item, or a .npy (n, K) array in the schema's label order."
    )
    ids_file = forms.FileField(
        required=False, help_text="With a .npy: one item id per line, in the array's row order."
    )
    epochs_file = forms.FileField(
        required=False, help_text="Optional with a .npy: (n_epochs, n, K) per-epoch probabilities."
    )
    id_field = forms.ChoiceField(choices=ID_FIELDS, initial="item_id", required=False)


class RelabelForm(forms.Form):
    item_ids = forms.TypedMultipleChoiceField(coerce=int, choices=())
    extra_labels = forms.IntegerField(min_value=1, max_value=20, initial=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id a bigint holds: the service ignores ids of other projects' items.
        self.fields["item_ids"].valid_value = lambda v: str(v).isdigit() and len(str(v)) < 19
