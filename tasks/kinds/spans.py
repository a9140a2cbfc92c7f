"""Span tagging: raters mark stretches of an item's text and give each one a label.

Item: `{"text": "Ada Lovelace wrote to Babbage."}`, with an optional `context` shown above it.
Value: `{"spans": [{"start": 0, "end": 12, "label": "PER", "text": "Ada Lovelace"}]}`:
character offsets into `text` (Unicode code points, end exclusive, as Python slices them),
sorted by start, end and label; `text` is filled in from the item. No spans is an answer too
("nothing to tag"). A span may also be given by its `text` alone: it is then found in the
item, after the previous span quoted with the same text. Overlapping spans are refused
unless the project's `allow_overlap` is on.

Gold: `{"value": {"spans": [...]}}`, with partial credit by overlap: each answer span is
paired with at most one expected span of the same label (the pairs that overlap most
first), a pair counts its characters' overlap over their union, and the score is the F1 of
those credits.

Agreement: span-level F1 between raters, exact and by overlap, and Krippendorff's
unitizing alpha (Krippendorff 2004, section 12.3). Aggregation: a vote per token, or
Dawid–Skene over tokens, on BIO tags so that two adjacent spans stay apart.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from itertools import combinations
from typing import Any

import numpy as np

from .base import (
    MISSING,
    RESERVED_KEYS,
    Choice,
    Column,
    Kind,
    SchemaError,
    bool_field,
    form_json,
    form_rows,
    options_validate,
    small_int,
)
from .keys import ItemExample, Key, option_entries

MAX_LABELS = 30
MAX_SPANS = 1000
# Keys the workbench or this widget (x removes a span) already use: they cannot tag.
SPAN_KEYS = RESERVED_KEYS | {"x"}
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa", "#a5f3fc", "#e5e7eb"]
# Words (with inner hyphens and apostrophes) and single punctuation marks; whitespace
# separates tokens and belongs to none. The browser selects whole tokens.
TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


def tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of each token of `text`, in code points."""
    return [m.span() for m in TOKEN.finditer(text)]


def _labels_validate(raw: Any) -> list[dict]:
    """The span labels: options with keys, as choices are, each with a colour."""
    options = options_validate(raw, "labels", 1, MAX_LABELS, reserved=SPAN_KEYS)
    out = []
    for i, (entry, option) in enumerate(zip(raw, options, strict=True)):
        color = (entry.get("color") if isinstance(entry, dict) else None) or PALETTE[
            i % len(PALETTE)
        ]
        if not isinstance(color, str) or not COLOR.match(color):
            raise SchemaError(f"labels[{i}].color", "must be a colour like #fde68a")
        out.append({**option.__dict__, "color": color.lower()})
    return out


def _overlap(a: dict, b: dict) -> int:
    return max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def _quoted(text: str, quote: str, after: int) -> int:
    at = text.find(quote, after)
    return at if at >= 0 else text.find(quote)


class SpanTagging(Kind):
    name = "span_tagging"
    label = "Span tagging"
    schema_keys = (
        Key(
            "labels",
            "list",
            "The span labels, each picked by its key after selecting text.",
            entries=option_entries(
                "label",
                (Key("color", "string", "A colour like #fde68a; from a palette if left out."),),
            ),
            min_items=1,
            max_items=MAX_LABELS,
        ),
        Key("allow_overlap", "boolean", "Let spans overlap.", False),
    )
    item_example = ItemExample(
        note="text is the text to tag (offsets count code points); context, optional, is shown above it.",
        line={"text": "Ada Lovelace was born in London.", "context": "From a biography."},
        schema={"labels": ["PER", "LOC"]},
    )
    required_fields = ("text",)
    optional_fields = ("text", "context")

    # --- Schema ---

    def schema_validate(self, schema: dict) -> dict:
        return {
            "labels": _labels_validate(schema.get("labels")),
            "allow_overlap": bool_field(schema, "allow_overlap", False),
        }

    schema_rows = {"span_label": "tasks/kinds/span_tagging-schema.html#span-label-row"}

    def schema_from_form(self, post) -> dict:
        rows = form_rows(post, "label_value", "label_label", "label_hotkey", "label_color")
        return {
            "labels": [
                {
                    "value": r["label_value"],
                    "label": r["label_label"],
                    "hotkey": r["label_hotkey"],
                    "color": r["label_color"],
                }
                for r in rows
                # A colour input always posts a value: a row without a name is blank.
                if r["label_value"] or r["label_label"] or r["label_hotkey"]
            ],
            "allow_overlap": post.get("allow_overlap") in ("on", "true", "1"),
        }

    def schema_editor_context(self, schema: dict) -> dict:
        return {"labels": list(schema.get("labels") or [{"value": "", "color": PALETTE[0]}])}

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        names = [lab["value"] for lab in new["labels"]]
        for i, lab in enumerate(old["labels"]):
            if lab["value"] not in names:
                return SchemaError(
                    f"labels[{i}].value",
                    f"{lab['value']!r} is on spans already; it cannot be removed",
                )
        if old["allow_overlap"] and not new["allow_overlap"]:
            return SchemaError(
                "allow_overlap", "cannot be turned off once raters may have overlapped spans"
            )
        return None

    # --- Items ---

    def item_validate(self, data: dict, schema: dict) -> None:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise SchemaError("text", "is required: the text to tag")
        if "context" in data and not isinstance(data["context"], str):
            raise SchemaError("context", "must be a string")

    # --- Answers ---

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        text = item_data.get("text") if isinstance(item_data, dict) else None
        if not isinstance(text, str):
            raise SchemaError("text", "the item has no text to tag")
        if isinstance(value, list):
            value = {"spans": value}
        if not isinstance(value, dict) or not isinstance(value.get("spans"), list):
            raise SchemaError("value.spans", "must be a list of spans (it may be empty)")
        raw = value["spans"]
        if len(raw) > MAX_SPANS:
            raise SchemaError("value.spans", f"must hold at most {MAX_SPANS} spans")
        labels = {lab["value"] for lab in schema["labels"]}
        spans, where, after = [], {}, {}
        for i, span in enumerate(raw):
            at = f"value.spans[{i}]"
            if not isinstance(span, dict):
                raise SchemaError(at, "must be an object with start, end and label")
            if span.get("label") not in labels:
                raise SchemaError(f"{at}.label", f"must be one of {', '.join(sorted(labels))}")
            start, end = small_int(span.get("start")), small_int(span.get("end"))
            if start is None and end is None and isinstance(span.get("text"), str):
                quote = span["text"]
                start = _quoted(text, quote, after.get(quote, 0)) if quote else -1
                if start < 0:
                    raise SchemaError(f"{at}.text", "does not occur in the item's text")
                end = start + len(quote)
                after[quote] = end
            for field, x in (("start", start), ("end", end)):
                if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= len(text):
                    raise SchemaError(f"{at}.{field}", f"must be an offset from 0 to {len(text)}")
            if end <= start:
                raise SchemaError(f"{at}.end", "must come after start")
            if not text[start:end].strip():
                raise SchemaError(at, "covers only whitespace")
            key = (start, end, span["label"])
            where.setdefault(key, i)
            spans.append(key)
        spans = sorted(set(spans))
        if not schema["allow_overlap"]:
            for a, b in zip(spans, spans[1:], strict=False):
                if b[0] < a[1]:
                    raise SchemaError(
                        f"value.spans[{where[b]}]",
                        f"overlaps spans[{where[a]}]; this project does not allow overlapping spans",
                    )
        return {
            "spans": [
                {"start": s, "end": e, "label": lab, "text": text[s:e]} for s, e, lab in spans
            ]
        }

    def value_from_form(self, schema: dict, post) -> Any:
        """`spans` as the widget's JSON list, or as lines of `label: quoted text` (practice)."""
        raw = (post.get("spans") or "").strip()
        if raw.startswith("["):
            return {"spans": form_json(raw, "spans")}
        spans = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            label, sep, quote = line.partition(":")
            if not sep or not quote.strip():
                raise SchemaError(f"spans line {n}", "must read label: text")
            spans.append({"label": label.strip(), "text": quote.strip()})
        return {"spans": spans}

    def choices(self, schema: dict) -> list[Choice]:
        return [
            Choice(lab["value"], lab["label"], lab["hotkey"], lab["description"])
            for lab in schema["labels"]
        ]

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        return [(lab["value"], lab["label"]) for lab in schema["labels"]]

    # --- The widget ---

    def widget_context(self, schema: dict) -> dict:
        return {"span_labels": schema["labels"]}

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        # The text goes out as tokens carrying their code-point offsets, so the browser never
        # counts characters itself (JavaScript strings count UTF-16 units).
        text = data.get("text") or ""
        pieces, at = [], 0
        for start, end in tokens(text):
            if start > at:
                pieces.append({"gap": text[at:start]})
            pieces.append({"s": start, "e": end, "t": text[start:end]})
            at = end
        if at < len(text):
            pieces.append({"gap": text[at:]})
        spans = value.get("spans", []) if isinstance(value, dict) else []
        return {
            "context": data.get("context") if isinstance(data.get("context"), str) else "",
            "pieces": pieces,
            "spans_json": json.dumps(spans, ensure_ascii=False),
        }

    # --- Gold ---

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict) or "value" not in answer:
            answer = {"value": answer}
        try:
            value = self.value_validate(schema, answer["value"], item_data)
        except SchemaError as exc:
            raise SchemaError("answer." + exc.field.removeprefix("value."), exc.message) from None
        return {"value": value}

    def gold_from_value(self, value: Any) -> Any:
        return {"value": value}

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        return round(overlap_f1(answer["value"]["spans"], value["spans"]), 6)

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        expected, given = answer["value"]["spans"], value["spans"]
        if not expected and not given:
            return ["Right: there was nothing to tag."]
        pairs = _pairs(expected, given)
        matched_e = {i for i, _, _ in pairs}
        matched_g = {j for _, j, _ in pairs}
        lines = []
        for i, j, _ in pairs:
            e, g = expected[i], given[j]
            if (e["start"], e["end"]) != (g["start"], g["end"]):
                lines.append(f"{e['label']}: expected “{e['text']}”, you marked “{g['text']}”.")
        lines += [
            f"Missed: {e['label']} “{e['text']}”."
            for i, e in enumerate(expected)
            if i not in matched_e
        ]
        lines += [
            f"Not expected: {g['label']} “{g['text']}”."
            for j, g in enumerate(given)
            if j not in matched_g
        ]
        return lines or ["Every span is right."]

    # --- Aggregation: per token, on BIO tags ---

    aggregation_methods = ("token_dawid_skene", "token_vote")
    loads_rows = True
    reads_item_fields = ("text",)

    def default_aggregation(self, *, subjective: bool) -> str:
        return "token_vote" if subjective else "token_dawid_skene"

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        return fit_tokens(schema, list(labels), method, params, extra_data.get("items", {}))

    def label_columns(self, schema: dict) -> list[Column]:
        # No fixed columns describe an answer; a hash of its spans tells identical answers
        # apart, which is all straightlining needs.
        return [
            Column(
                "spans_hash",
                "hashtext((a.value -> 'spans')::text)::bigint",
                (),
                lambda v, p: (
                    zlib.crc32(json.dumps(v.get("spans"), sort_keys=True).encode())
                    if isinstance(v, dict)
                    else MISSING
                ),
            )
        ]

    def answer_keys(self, schema: dict, arrays):
        return arrays["spans_hash"]

    # --- Agreement ---

    has_agreement_figures = True

    def agreement_key(self, value: Any) -> Any:
        # Whole answers rarely match exactly; span agreement is measured by agreement_figures.
        return None

    def agreement_figures(self, schema: dict, by_item: dict, items: dict) -> list[dict]:
        answers = {
            item: [(r, v.get("spans", [])) for r, v in rows if isinstance(v, dict)]
            for item, rows in by_item.items()
        }
        exact, overlap = rater_f1(answers)
        figures = [
            {
                "name": "span_f1",
                "label": "Span F1 between raters, exact",
                "value": _round(exact),
                "help": "same start, end and label",
            },
            {
                "name": "span_f1_overlap",
                "label": "Span F1 between raters, by overlap",
                "value": _round(overlap),
                "help": "partial credit for spans that overlap",
            },
        ]
        labels = [lab["value"] for lab in schema["labels"]]
        lengths = {i: len(d.get("text") or "") for i, d in items.items()}
        alpha, per_label = unitizing_alpha(answers, labels, lengths=lengths)
        figures.append(
            {
                "name": "unitizing_alpha",
                "label": "Krippendorff's unitizing α",
                "value": _round(alpha),
                "help": "where spans begin and end, and their labels",
            }
        )
        if len(labels) > 1:
            figures += [
                {
                    "name": f"unitizing_alpha:{lab}",
                    "label": f"Unitizing α, {lab}",
                    "value": _round(per_label[lab]),
                    "help": "",
                }
                for lab in labels
            ]
        return figures

    def distribution_keys(self, value: Any) -> list[str]:
        if not isinstance(value, dict):
            return []
        return [s["label"] for s in value.get("spans", [])] or ["(no spans)"]

    def short_text(self, value: Any) -> str:
        if not isinstance(value, dict):
            return str(value)
        spans = value.get("spans") or []
        if not spans:
            return "no spans"
        return "; ".join(f"{s['label']} “{s.get('text', '')}”" for s in spans)

    # --- Export ---

    def votes(self, schema: dict, values: list) -> dict:
        """{label: n spans raters gave it}: how much of each the raters found."""
        return dict(Counter(s["label"] for v in values for s in v.get("spans", [])))

    export_formats = {
        "conll_bio": ("CoNLL BIO tokens, one per line", "bio.conll", "text/plain; charset=utf-8")
    }

    def export_lines(self, fmt: str, schema: dict, item: dict, values: list, label) -> str:
        """One item as CoNLL: a `# item_id` comment, then `token<TAB>tag` per token and a
        blank line. Tags come from the final label (before any run, the raters' vote);
        items without answers are left out. With overlapping spans allowed, each label gets
        its own tag column, in the schema's order."""
        if fmt != "conll_bio":
            return super().export_lines(fmt, schema, item, values, label)
        final = label if isinstance(label, dict) else None
        text = item["data"].get("text")
        if final is None or not isinstance(text, str):
            return ""
        toks = tokens(text)
        spans = final.get("spans", [])
        if schema["allow_overlap"]:
            columns = [
                bio_tags(toks, [s for s in spans if s["label"] == lab["value"]])
                for lab in schema["labels"]
            ]
        else:
            columns = [bio_tags(toks, spans)]
        head = f"# item_id = {item['item_id']}"
        if item.get("external_id"):
            head += f"\n# external_id = {_one_line(item['external_id'])}"
        rows = [
            "\t".join([_one_line(text[s:e]), *(col[k] for col in columns)])
            for k, (s, e) in enumerate(toks)
        ]
        return head + "\n" + "\n".join(rows) + "\n\n"


def _one_line(s: str) -> str:
    return s.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _round(x):
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


# --- Matching spans -------------------------------------------------------------------------


def _pairs(a: list[dict], b: list[dict]) -> list[tuple[int, int, float]]:
    """One-to-one pairs of same-label spans of `a` and `b`, most overlap (over union) first."""
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x["label"] == y["label"]:
                inter = _overlap(x, y)
                if inter:
                    union = max(x["end"], y["end"]) - min(x["start"], y["start"])
                    candidates.append((inter / union, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_a, used_b, pairs = set(), set(), []
    for credit, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, credit))
    return pairs


def overlap_f1(expected: list[dict], given: list[dict]) -> float:
    """F1 where a paired span counts its overlap over union; 1.0 when both are empty."""
    if not expected and not given:
        return 1.0
    credit = sum(c for _, _, c in _pairs(expected, given))
    return 2.0 * credit / (len(expected) + len(given))


def rater_f1(answers: dict) -> tuple[float | None, float | None]:
    """Micro-averaged span F1 over every pair of raters on every item: (exact, by overlap)."""
    hits = credit = total = 0.0
    for rows in answers.values():
        for (_, a), (_, b) in combinations(rows, 2):
            keys_a = {(s["start"], s["end"], s["label"]) for s in a}
            keys_b = {(s["start"], s["end"], s["label"]) for s in b}
            hits += 2 * len(keys_a & keys_b)
            credit += 2 * sum(c for _, _, c in _pairs(a, b))
            total += len(keys_a) + len(keys_b)
    if total == 0:
        return None, None
    return hits / total, credit / total


# --- Krippendorff's unitizing alpha ---------------------------------------------------------


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _gaps(units: list[tuple[int, int]], length: int) -> list[int]:
    """Lengths of the stretches of [0, length) that no unit covers."""
    out, at = [], 0
    for s, e in units:
        if s > at:
            out.append(s - at)
        at = max(at, e)
    if at < length:
        out.append(length - at)
    return out


def unitizing_alpha(continua, labels, *, lengths=None):
    """Krippendorff's unitizing alpha, overall and per label: (alpha, {label: alpha}).

    continua: {item: [(coder, spans)]}; lengths: {item: characters} (default: each item
    ends where its last span does). Each item is a continuum of its own; together they make
    one of total length L, sections never crossing an item's edge. The m coders are the
    raters of the items with the most common number of raters (m >= 2), each such item's
    first m raters by id. Per label c, a coder's units are their merged spans of c and the
    rest is gaps. Observed disagreement: over ordered pairs of coders, overlapping units add
    the squared differences of their starts and ends, and a unit lying in the other coder's
    gap adds its squared length, all over m(m-1)L^2. Expected disagreement follows
    Krippendorff (2004, p. 253); alpha = 1 - sum D_o / sum D_e over labels.
    """
    counts = Counter(len({r for r, _ in rows}) for rows in continua.values())
    counts.pop(0, None), counts.pop(1, None)
    if not counts:
        return None, {lab: None for lab in labels}
    m = max(counts, key=lambda k: (counts[k], k))
    chosen = []
    for item, rows in continua.items():
        by_rater: dict = {}
        for r, spans in rows:
            by_rater.setdefault(r, spans)
        if len(by_rater) >= m:
            coders = [by_rater[r] for r in sorted(by_rater)[:m]]
            end = max((s["end"] for c in coders for s in c), default=0)
            length = (lengths or {}).get(item, end)
            if length > 0:
                chosen.append((max(length, end), coders))
    total = sum(length for length, _ in chosen)
    if total == 0:
        return None, {lab: None for lab in labels}
    observed, expected, per_label = {}, {}, {}
    for lab in labels:
        d_o = 0.0
        unit_lengths, gap_lengths = [], []
        for length, coders in chosen:
            units = [
                _merge([(s["start"], s["end"]) for s in spans if s["label"] == lab])
                for spans in coders
            ]
            for u in units:
                unit_lengths += [e - s for s, e in u]
                gap_lengths += _gaps(u, length)
            for i, j in combinations(range(m), 2):
                d_o += 2.0 * _pair_disagreement(units[i], units[j])
        observed[lab] = d_o / (m * (m - 1) * float(total) ** 2)
        expected[lab] = _expected(unit_lengths, gap_lengths, m, float(total))
        per_label[lab] = 1.0 - observed[lab] / expected[lab] if expected[lab] > 0 else None
    d_o, d_e = sum(observed.values()), sum(expected.values())
    return (1.0 - d_o / d_e if d_e > 0 else None), per_label


def _pair_disagreement(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> float:
    """One ordering of two coders' sections of one label (the other ordering is equal)."""
    d = 0.0
    for units, others in ((a, b), (b, a)):
        for s, e in units:
            touching = [(t, f) for t, f in others if min(e, f) > max(s, t)]
            if not touching:
                d += float(e - s) ** 2  # wholly inside one of the other coder's gaps
            elif units is a:
                d += sum(float(s - t) ** 2 + float(e - f) ** 2 for t, f in touching)
    return d


def _expected(units, gaps, m: int, total: float) -> float:
    if not units:
        return 0.0
    u = np.asarray(units, dtype=np.float64)
    g = np.sort(np.asarray(gaps, dtype=np.float64))
    # For each unit, the sum over gaps at least as long of (gap - unit + 1).
    suffix = np.concatenate([np.cumsum(g[::-1])[::-1], [0.0]])
    first = np.searchsorted(g, u, side="left")
    n_longer = g.size - first
    fit = suffix[first] - (u - 1.0) * n_longer
    n_c = u.size
    numerator = (2.0 / total) * np.sum((n_c - 1) / 3.0 * (2 * u**3 - 3 * u**2 + u) + u**2 * fit)
    denominator = m * total * (m * total - 1) - np.sum(u * (u - 1))
    return float(numerator / denominator) if denominator > 0 else 0.0


# --- Token votes ----------------------------------------------------------------------------


def bio_tags(toks: list[tuple[int, int]], spans: list[dict]) -> list[str]:
    """B-/I-/O tag of each token: a span covers the tokens it overlaps."""
    tags = ["O"] * len(toks)
    starts = [s for s, _ in toks]
    for span in sorted(spans, key=lambda s: (s["start"], s["end"])):
        first = max(0, int(np.searchsorted(starts, span["start"], side="right")) - 1)
        inside = [
            k
            for k in range(first, len(toks))
            if toks[k][0] < span["end"] and toks[k][1] > span["start"]
        ]
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + span["label"]
    return tags


def fit_tokens(schema, rows, method, params, items):
    """Per-token labels by vote or Dawid–Skene over BIO codes, turned back into spans.

    Codes per label set: 0 = O, 1 + 2k = B-label_k, 2 + 2k = I-label_k. Without overlap
    all labels share one set of codes; with overlap allowed each label is decided on its
    own (O, B, I), so spans of different labels may overlap in the result too.
    """
    from aggregation import numeric
    from aggregation.methods import Fit, _r

    labels = [lab["value"] for lab in schema["labels"]]
    groups = [[lab] for lab in labels] if schema["allow_overlap"] else [labels]
    item_ids = sorted({r[0] for r in rows if r[0] in items})
    toks = {i: tokens(items[i].get("text") or "") for i in item_ids}
    offset, at = {}, 0
    for i in item_ids:
        offset[i] = at
        at += len(toks[i])
    n_tokens = at
    rater_code: dict = {}
    votes_per_item = Counter()
    answers = []
    for item_id, rater_id, value in rows:
        if item_id not in offset or not isinstance(value, dict):
            continue
        votes_per_item[item_id] += 1
        answers.append((item_id, rater_code.setdefault(rater_id, len(rater_code)), value))
    spans_out: dict = {i: [] for i in item_ids}
    token_p = np.ones(n_tokens)
    stats: dict = {"n_answers": len(answers), "n_tokens": n_tokens}
    for group in groups:
        code = {lab: k for k, lab in enumerate(group)}
        t_idx, r_idx, lab_idx = [], [], []
        for item_id, r, value in answers:
            tags = bio_tags(toks[item_id], [s for s in value["spans"] if s["label"] in code])
            for k, tag in enumerate(tags):
                t_idx.append(offset[item_id] + k)
                r_idx.append(r)
                lab_idx.append(0 if tag == "O" else 1 + 2 * code[tag[2:]] + (tag[0] == "I"))
        shape = {
            "n_items": n_tokens,
            "n_raters": max(len(rater_code), 1),
            "n_labels": 1 + 2 * len(group),
        }
        args = (
            np.asarray(t_idx, np.int64),
            np.asarray(r_idx, np.int64),
            np.asarray(lab_idx, np.int64),
        )
        if method == "token_vote":
            res = numeric.majority_vote(*args, **shape)
        else:
            kw = {k: params[k] for k in ("prior", "max_iter", "tol") if k in params}
            res = numeric.dawid_skene(*args, **shape, **kw)
            stats.setdefault("n_iter", {})[",".join(group)] = int(res.n_iter)
        post = res.posterior
        chosen = post[np.arange(n_tokens), res.label] if n_tokens else np.zeros(0)
        token_p = np.minimum(token_p, chosen)
        for i in item_ids:
            base = offset[i]
            current = None
            for k, (s, e) in enumerate(toks[i]):
                c = int(res.label[base + k])
                lab = None if c == 0 else group[(c - 1) // 2]
                starts = c != 0 and ((c - 1) % 2 == 0 or current is None or current["label"] != lab)
                if current is not None and (c == 0 or starts):
                    spans_out[i].append(current)
                    current = None
                if c == 0:
                    continue
                if starts:
                    current = {"start": s, "end": e, "label": lab, "p": [float(chosen[base + k])]}
                else:
                    current["end"] = e
                    current["p"].append(float(chosen[base + k]))
            if current is not None:
                spans_out[i].append(current)
    labels_out, confidence, distribution, extra = [], [], [], []
    for i in item_ids:
        text = items[i].get("text") or ""
        found = sorted(spans_out[i], key=lambda s: (s["start"], s["end"], s["label"]))
        labels_out.append(
            {
                "spans": [
                    {
                        "start": s["start"],
                        "end": s["end"],
                        "label": s["label"],
                        "text": text[s["start"] : s["end"]],
                    }
                    for s in found
                ]
            }
        )
        span = slice(offset[i], offset[i] + len(toks[i]))
        confidence.append(_r(float(np.mean(token_p[span]))) if len(toks[i]) else None)
        mass = Counter()
        for s in found:
            mass[s["label"]] += 1
        distribution.append(dict(mass))
        extra.append({"span_confidence": [_r(float(np.mean(s["p"])), 4) for s in found]})
    return Fit(
        item_ids=np.asarray(item_ids, dtype=np.int64),
        label=labels_out,
        confidence=confidence,
        distribution=distribution,
        n_votes=np.asarray([votes_per_item[i] for i in item_ids], dtype=np.float64),
        extra=extra,
        stats=stats,
    )
