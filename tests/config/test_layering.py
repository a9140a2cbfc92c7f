"""The layers hold: config/ is the platform under the domain apps and imports none of
them (wsgi.py, which mounts the fast lane, aside), and the queue's SQL is reached only
through the queue package, so every door runs the same statements."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = {"tasks", "annotation", "raters", "quality", "aggregation", "demo"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def python_files(under: Path):
    return [p for p in under.rglob("*.py") if ".venv" not in p.parts]


def test_config_imports_no_domain_app_except_in_wsgi():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in DOMAIN_APPS
        )
        for path in python_files(ROOT / "config")
        if path.name != "wsgi.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_outside_annotation_imports_the_queue_sql_module():
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(ROOT)
        if "annotation" not in path.relative_to(ROOT).parts[:1]
        and "annotation.queue.sql" in imported_modules(path)
    ]
    assert offenders == []


def test_the_layering_check_sees_an_import_of_a_domain_app(tmp_path):
    # The checks above pass vacuously if the parser misses imports; this one cannot.
    probe = tmp_path / "probe.py"
    probe.write_text("from annotation.queue import sql\nimport tasks.models\n")
    assert {"annotation.queue.sql", "tasks.models"} <= imported_modules(probe)
