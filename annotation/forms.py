import json

from tasks import schema as schemas


def value_from_post(project, post) -> object:
    """Gather a form's fields into the project's kind of answer; tasks.schema checks it.

    Field names: `value` (a choice; repeated for multi choice), `value.<dimension>` for
    Likert, `choice`, `strength`, `flags.A` / `flags.B` and `rationale` for pairwise,
    `ranking` as JSON tiers or "1 > 2 = 3" (response numbers from 1), `text` for
    demonstrations. The schema module checks the result. Pairwise sides are as displayed;
    the submit service maps them back.
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
        value = {"choice": post.get("choice") or post.get("value")}
        if post.get("strength"):
            value["strength"] = post.get("strength")
        if schema.get("flags"):
            value["flags"] = {"A": post.getlist("flags.A"), "B": post.getlist("flags.B")}
        if schema.get("rationale", "none") != "none":
            value["rationale"] = post.get("rationale", "")
        return value
    if kind == schemas.RANKING:
        return {"ranking": _ranking_tiers(post.get("ranking") or "")}
    if kind == schemas.DEMONSTRATION:
        return {"text": post.get("text", "")}
    return post.get("value")


def _ranking_tiers(raw: str):
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return None
    try:
        return [[int(n) - 1 for n in tier.split("=")] for tier in raw.split(">") if tier.strip()]
    except ValueError:
        return None
