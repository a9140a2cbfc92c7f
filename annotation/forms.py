from tasks import schema as schemas


def value_from_post(project, post) -> object:
    """Shape the workbench's form fields as the project's kind of answer.

    The schema module checks the result; this only gathers the fields.
    """
    if project.kind == schemas.PAIRWISE:
        value = {"choice": post.get("value")}
        if post.get("strength"):
            value["strength"] = post.get("strength")
        return value
    return post.get("value")
