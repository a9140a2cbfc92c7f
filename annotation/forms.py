import json

from tasks import schema as schemas


def value_from_post(project, post) -> object:
    """Gather a form's fields into the project's kind of answer; tasks.schema checks it.

    Field names: `value` (a choice; repeated for multi choice), `value.<dimension>` for
    Likert, `strength`, `flags.A` / `flags.B` and `rationale` for pairwise, `ranking` as
    JSON tiers or "1 > 2 = 3" (response numbers from 1) for ranking, `text` for
    demonstrations.
    """
    kind = project.kind
    if kind == schemas.MULTI_CHOICE:
        return post.getlist("value")
    if kind == schemas.LIKERT:
        return {d["name"]: post.get(f"value.{d['name']}") for d in project.schema["dimensions"]}
    if kind == schemas.PAIRWISE:
        value = {"choice": post.get("value")}
        if post.get("strength"):
            value["strength"] = post.get("strength")
        if "flags.A" in post or "flags.B" in post:
            value["flags"] = {"A": post.getlist("flags.A"), "B": post.getlist("flags.B")}
        if "rationale" in post:
            value["rationale"] = post.get("rationale")
        return value
    if kind == schemas.RANKING:
        return {"ranking": _ranking_tiers(post.get("ranking", ""))}
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
