import json

from tasks import schema as schemas


def value_from_post(project, post) -> object:
    """Shape the workbench's form fields as the project's kind of answer.

    The schema module checks the result; this only gathers the fields. Pairwise sides are
    as displayed; the submit service maps them back.
    """
    kind, schema = project.kind, project.schema
    if kind == schemas.MULTI_CHOICE:
        return post.getlist("value")
    if kind == schemas.LIKERT:
        return {
            d["name"]: post.get(f"value.{d['name']}")
            for d in schema["dimensions"]
            if post.get(f"value.{d['name']}")
        }
    if kind == schemas.PAIRWISE:
        value = {"choice": post.get("choice")}
        if post.get("strength"):
            value["strength"] = post.get("strength")
        if schema.get("flags"):
            value["flags"] = {"A": post.getlist("flags.A"), "B": post.getlist("flags.B")}
        if schema.get("rationale", "none") != "none":
            value["rationale"] = post.get("rationale", "")
        return value
    if kind == schemas.RANKING:
        try:
            return {"ranking": json.loads(post.get("ranking") or "null")}
        except ValueError:
            return {"ranking": None}
    if kind == schemas.DEMONSTRATION:
        return {"text": post.get("text", "")}
    return post.get("value")
