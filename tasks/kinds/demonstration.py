"""Demonstration: the rater writes the ideal response to a prompt, optionally from a draft.

Value: `{"text": "the ideal response"}`. Demonstrations have no single right answer, so they
cannot be gold.
"""

from __future__ import annotations

import json
from typing import Any

from .base import (
    MAX_TEXT,
    Kind,
    SchemaError,
    answer_text,
    bool_field,
    chat_turns,
    form_int,
    int_field,
    prompt_turns,
    prompt_validate,
    text_field,
)
from .keys import ItemExample, Key


class Demonstration(Kind):
    name = "demonstration"
    label = "Demonstration (write the ideal response)"
    schema_keys = (
        Key(
            "min_length",
            "integer",
            "The fewest characters a response may have.",
            1,
            minimum=1,
            maximum=MAX_TEXT,
        ),
        Key(
            "show_draft", "boolean", "Show the item's draft and a live word diff against it.", True
        ),
    )
    item_example = ItemExample(
        note="prompt is text or a chat; draft, optional, is a response for the rater to improve.",
        line={"prompt": "Summarise: the meeting moved to Friday.", "draft": "Meeting is Friday."},
        schema={"min_length": 10},
    )
    required_fields = ("prompt",)
    optional_fields = ("draft",)

    def schema_validate(self, schema: dict) -> dict:
        return {
            "min_length": int_field(schema, "min_length", 1, 1, MAX_TEXT),
            "show_draft": bool_field(schema, "show_draft", True),
        }

    def schema_from_form(self, post) -> dict:
        return {
            "min_length": form_int(post, "min_length", 1),
            "show_draft": bool(post.get("show_draft")),
        }

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        if new["min_length"] > old["min_length"]:
            return SchemaError("min_length", "cannot be raised once labeling has started")
        return None

    def item_validate(self, data: dict, schema: dict) -> None:
        prompt_validate(data)
        text_field(data, "draft", required=False)

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        text = value.get("text") if isinstance(value, dict) else None
        if not isinstance(text, str):
            raise SchemaError("value.text", "must be text")
        text = answer_text(text)
        if len(text) < schema["min_length"]:
            raise SchemaError("value.text", f"needs at least {schema['min_length']} characters")
        if len(text) > MAX_TEXT:
            raise SchemaError("value.text", f"must be at most {MAX_TEXT:,} characters")
        return {"text": text}

    submit_key = "Ctrl+Enter"

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        draft = (data.get("draft") or "") if schema.get("show_draft", True) else ""
        # A returning answer (undo, a refused submit) comes back; else the draft to edit.
        text = value.get("text", "") if isinstance(value, dict) else draft
        return {"turns": prompt_turns(data, render), "draft": draft, "text": text}

    def value_from_form(self, schema: dict, post) -> Any:
        return {"text": post.get("text", "")}

    export_formats = {
        "sft_messages": (
            "SFT messages (TRL conversational), JSONL",
            "sft.jsonl",
            "application/x-ndjson",
        )
    }

    def export_lines(self, fmt: str, schema: dict, item: dict, values: list, label) -> str:
        """One line per demonstration: `messages` is the prompt's turns and the rater's text
        as the assistant's turn, as TRL's SFT trainer reads a conversational dataset, with
        the item's provenance and the rater's pseudonym beside it. Gold items are checks
        on raters, not demonstrations of the project, and are left out."""
        if fmt != "sft_messages":
            return super().export_lines(fmt, schema, item, values, label)
        if item["is_gold"]:
            return ""
        prompt = chat_turns(item["data"]["prompt"])
        lines = []
        for value, rater, version in zip(
            values, item["raters"], item["guideline_versions"], strict=True
        ):
            row = {
                "messages": [*prompt, {"role": "assistant", "content": value["text"]}],
                "item_id": item["item_id"],
                "external_id": item["external_id"],
                "meta": item["meta"],
                "rater": rater,
                "guideline_version": version,
                # The item's: every rater's pseudonym and version, any run's figures.
                **item["provenance"],
            }
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        return "".join(lines)

    def agreement_key(self, value: Any) -> Any:
        # Free text: two demonstrations are never "the same answer".
        return None

    def short_text(self, value: Any) -> str:
        return str(value.get("text", ""))[:200] if isinstance(value, dict) else str(value)

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        raise SchemaError("kind", "demonstrations have no single right answer to score")
