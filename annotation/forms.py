from tasks import kinds


def value_from_post(project, post) -> object:
    """Gather a form's fields into the project's kind of answer; tasks.schema checks it.

    Each kind reads its own fields (tasks/kinds): `value` for a choice (repeated for multi
    choice), `value.<dimension>` for Likert, `choice`, `strength`, `flags.A` / `flags.B` and
    `rationale` for pairwise, `ranking` for ranking, `text` for demonstrations. Pairwise
    sides are as displayed; the submit service maps them back.
    """
    return kinds.get(project.kind).value_from_form(project.schema, post)
