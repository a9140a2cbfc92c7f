import pytest

from quality.scoring import feedback_lines, gold_answer_validate, gold_score, kendall_tau_b
from tasks import schema as s

PAIR = s.schema_validate(s.PAIRWISE, {"strength": "labels"})
RANK = s.schema_validate(s.RANKING, {"allow_ties": True})
LIKERT = s.schema_validate(s.LIKERT, {"scale": 5, "dimensions": ["helpfulness", "honesty"]})
MULTI = s.schema_validate(s.MULTI_CHOICE, {"choices": ["spam", "ads", "rude", "ok"]})
ITEM3 = {"prompt": "p", "responses": ["a", "b", "c"]}


def test_a_pairwise_gold_can_accept_a_side_at_any_strength():
    gold = gold_answer_validate(s.PAIRWISE, PAIR, {"accept": ["A"], "strength": None}, item_data={})
    assert gold_score(s.PAIRWISE, PAIR, gold, {"choice": "A", "strength": 3}) == 1.0
    assert gold_score(s.PAIRWISE, PAIR, gold, {"choice": "B", "strength": 3}) == 0.0


def test_a_pairwise_strength_off_by_steps_earns_partial_credit():
    gold = gold_answer_validate(s.PAIRWISE, PAIR, {"accept": ["A"], "strength": 3}, item_data={})
    scores = [gold_score(s.PAIRWISE, PAIR, gold, {"choice": "A", "strength": k}) for k in (3, 2, 1)]
    assert scores == [1.0, 0.75, 0.5]


def test_a_set_of_acceptable_answers_is_honoured():
    gold = gold_answer_validate(s.PAIRWISE, PAIR, {"accept": ["A", "tie"]}, item_data={})
    assert gold_score(s.PAIRWISE, PAIR, gold, {"choice": "tie"}) == 1.0


def test_ranking_credit_follows_kendall_distance():
    gold = gold_answer_validate(s.RANKING, RANK, {"ranking": [[0], [1], [2]]}, item_data=ITEM3)
    assert gold_score(s.RANKING, RANK, gold, {"ranking": [[0], [1], [2]]}) == 1.0
    assert gold_score(s.RANKING, RANK, gold, {"ranking": [[2], [1], [0]]}) == 0.0
    assert gold_score(s.RANKING, RANK, gold, {"ranking": [[1], [0], [2]]}) == pytest.approx(2 / 3)
    assert kendall_tau_b([[0], [1, 2]], [[0], [1, 2]]) == 1.0


def test_likert_credit_falls_linearly_outside_the_tolerance():
    gold = gold_answer_validate(
        s.LIKERT, LIKERT, {"value": {"helpfulness": 4, "honesty": 5}, "tolerance": 1}, item_data={}
    )
    assert gold_score(s.LIKERT, LIKERT, gold, {"helpfulness": 5, "honesty": 4}) == 1.0
    assert gold_score(s.LIKERT, LIKERT, gold, {"helpfulness": 1, "honesty": 5}) == pytest.approx(
        (0.5 + 1.0) / 2
    )


def test_multi_choice_credit_is_the_jaccard_overlap():
    gold = gold_answer_validate(s.MULTI_CHOICE, MULTI, {"value": ["spam", "ads"]}, item_data={})
    assert gold_score(s.MULTI_CHOICE, MULTI, gold, ["spam"]) == 0.5
    assert gold_score(s.MULTI_CHOICE, MULTI, gold, ["ads", "spam"]) == 1.0


def test_a_gold_answer_outside_the_schema_is_refused_with_its_field():
    with pytest.raises(s.SchemaError) as exc:
        gold_answer_validate(s.PAIRWISE, PAIR, {"accept": ["C"]}, item_data={})
    assert exc.value.field == "answer.accept[0]"
    with pytest.raises(s.SchemaError, match="no single right answer"):
        gold_answer_validate(s.DEMONSTRATION, {}, {"text": "x"}, item_data={})


def test_feedback_shows_the_difference_to_the_expected_answer():
    gold = gold_answer_validate(s.RANKING, RANK, {"ranking": [[0], [1], [2]]}, item_data=ITEM3)
    lines = feedback_lines(s.RANKING, RANK, gold, {"ranking": [[1], [0], [2]]}, item_data=ITEM3)
    assert lines[0] == "Expected order: #1 > #2 > #3."
    assert "Response #1: expected place 1, you put it at 2." in lines
    pgold = gold_answer_validate(s.PAIRWISE, PAIR, {"accept": ["A"], "strength": 3}, item_data={})
    plines = feedback_lines(s.PAIRWISE, PAIR, pgold, {"choice": "A", "strength": 1}, item_data={})
    assert "2 steps weaker than expected" in plines[-1]
