"""Scoring with reverse items and known answer sets, grading, policy checks, suppression, sealing."""

from __future__ import annotations

from datetime import date

import pytest

from backend.checkups.content import ITEMS, default_policy, first_questionnaire
from backend.checkups.crypto import Sealer, SealError, checkup_key
from backend.checkups.models import CheckupPolicy, Dimension, Item, PolicyCreate
from backend.checkups.scoring import (
    check_policy,
    dimension_scores,
    evaluate,
    explain,
    item_risk,
    small_counts_hidden,
    summarise,
    suppressed_keys,
    years_between,
)
from backend.kernel.errors import Invalid
from tests.checkups.conftest import ITEM_CODES, REVERSE, healthy_answers, risky_answers
from tests.conftest import make_settings

ITEM_OBJECTS = first_questionnaire().items


def policy(**overrides: float) -> CheckupPolicy:
    values = default_policy().model_dump(mode="json") | overrides
    return CheckupPolicy(id=1, version=1, **values)


def test_item_risk_forward_and_reverse() -> None:
    assert item_risk(1, 5, reverse=False) == 0
    assert item_risk(5, 5, reverse=False) == 1
    assert item_risk(5, 5, reverse=True) == 0
    assert item_risk(1, 5, reverse=True) == 1
    assert item_risk(3, 5, reverse=True) == 0.5


def test_questionnaire_is_ours_balanced_and_bilingual() -> None:
    q = first_questionnaire()
    assert len(q.items) == 20
    for d in Dimension:
        of_dim = [i for i in q.items if i.dimension == d]
        assert len(of_dim) == 4
        assert any(i.reverse for i in of_dim), f"{d} needs a reverse-scored item"
        assert all(i.text_zh and i.text_en for i in of_dim)
    assert len(q.scale) == 5


def test_known_answer_sets() -> None:
    assert dimension_scores(ITEM_OBJECTS, healthy_answers(), 5) == {d.value: 0.0 for d in Dimension}
    assert dimension_scores(ITEM_OBJECTS, risky_answers(), 5) == {d.value: 100.0 for d in Dimension}
    # everyone answers 5 ("strongly agree"): forward items count fully, reverse items not at all
    all_agree = dimension_scores(ITEM_OBJECTS, dict.fromkeys(ITEM_CODES, 5), 5)
    expected = {}
    for d in Dimension:
        codes = [c for c, dim, *_ in ITEMS if dim == d]
        expected[d.value] = round(100 * sum(c not in REVERSE for c in codes) / len(codes), 1)
    assert all_agree == expected
    assert all_agree["support"] == 25.0  # one of four social-support statements is worded as risk
    assert all_agree["cognitive"] == 75.0
    # a middle answer everywhere sits at 50 whatever the direction
    assert dimension_scores(ITEM_OBJECTS, dict.fromkeys(ITEM_CODES, 3), 5) == {
        d.value: 50.0 for d in Dimension
    }


def test_mixed_items_one_dimension() -> None:
    items = [
        Item(code="a", dimension=Dimension.stress, text_zh="甲甲", text_en="aa"),
        Item(code="b", dimension=Dimension.stress, text_zh="乙乙", text_en="bb", reverse=True),
    ]
    scores = dimension_scores(items, {"a": 4, "b": 2}, 5)
    assert scores["stress"] == 75.0  # (0.75 + 0.75) / 2


def test_composite_grade_and_why() -> None:
    dims = {d.value: 50.0 for d in Dimension}
    payload = evaluate(dims, post_risk=70, tenure_years=2.5, policy=policy())
    # psych 50 (medium), post 70, tenure 2.5 / 5 years = 50
    assert payload["psych_score"] == 50.0
    assert payload["psych_grade"] == "medium"
    assert payload["psych_total"] == 250.0
    assert payload["tenure_score"] == 50.0
    assert payload["composite"] == 58.0  # 0.4*50 + 0.4*70 + 0.2*50
    assert payload["composite_grade"] == "medium"
    assert payload["risk_types"] == ["psychological", "post"]
    why = explain(payload, policy())
    assert [f.contribution for f in why.factors] == [20.0, 28.0, 10.0]
    assert "58" in why.text_en and "medium" in why.text_en and "high ≥ 65" in why.text_en
    assert "中" in why.text_zh and "第 1 版" in why.text_zh


def test_grade_boundaries_and_tenure() -> None:
    p = policy()
    low = evaluate({d.value: 0.0 for d in Dimension}, post_risk=30, tenure_years=0.5, policy=p)
    assert low["composite_grade"] == "low" and low["risk_types"] == []
    high = evaluate({d.value: 100.0 for d in Dimension}, post_risk=80, tenure_years=9, policy=p)
    assert high["composite"] == 92.0 and high["composite_grade"] == "high"
    assert high["tenure_score"] == 100.0  # capped
    assert high["risk_types"] == ["psychological", "post", "tenure"]
    unknown = evaluate({d.value: 0.0 for d in Dimension}, post_risk=None, tenure_years=None, policy=p)
    assert unknown["post_risk"] == 50.0 and unknown["tenure_score"] == 0.0
    assert "no post on record" in explain(unknown, p).text_en.lower()
    assert years_between(date(2020, 1, 1), date(2026, 1, 1)) == 6.0
    assert years_between(None, date(2026, 1, 1)) is None


def test_policy_checks() -> None:
    check_policy(default_policy())
    with pytest.raises(Invalid) as err:
        check_policy(PolicyCreate(psych_weight=0.5, post_weight=0.4, tenure_weight=0.2))
    assert err.value.code == "weights_not_summing"
    with pytest.raises(Invalid) as err:
        check_policy(
            PolicyCreate(
                psych_weight=0.4,
                post_weight=0.4,
                tenure_weight=0.2,
                dimension_weights={d: 0.3 for d in Dimension},
            )
        )
    assert err.value.code == "weights_not_summing"
    with pytest.raises(Invalid) as err:
        check_policy(PolicyCreate(psych_weight=0.4, post_weight=0.4, tenure_weight=0.2, composite_medium=70))
    assert err.value.code == "cutoffs_out_of_order"


def test_small_cells_suppressed_with_complement() -> None:
    assert suppressed_keys({"a": 3, "b": 10, "c": 12}, 25) == {"a", "b"}
    assert suppressed_keys({"a": 3, "b": 4, "c": 12}, 19) == {"a", "b"}
    assert suppressed_keys({"a": 6, "b": 10}, 16) == set()
    assert suppressed_keys({"a": 2, "b": 2}, 4) == {"a", "b"}
    assert small_counts_hidden({"high": 0, "medium": 2, "low": 8}) == {"high": 0, "medium": None, "low": None}
    assert small_counts_hidden({"high": 5, "medium": 6, "low": 0}) == {"high": 5, "medium": 6, "low": 0}
    s = summarise(
        [
            {
                "dimensions": {d.value: 10.0 for d in Dimension},
                "psych_score": 10,
                "composite": 40,
                "composite_grade": "low",
            }
        ]
        * 5
    )
    assert s["people"] == 5 and s["grades"] == {"high": 0, "medium": 0, "low": 5}


def test_sealing_binds_key_and_row(tmp_path) -> None:
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///x.db")
    sealer = Sealer.from_settings(settings)
    token = sealer.seal({"answers": {"C1": 3}, "note": "秘密"}, "checkup-response:1:5")
    assert "秘密" not in token and "C1" not in token
    assert sealer.open(token, "checkup-response:1:5") == {"answers": {"C1": 3}, "note": "秘密"}
    with pytest.raises(SealError):
        sealer.open(token, "checkup-response:2:6")  # copied onto another person's row
    other = make_settings(tmp_path, "sqlite+aiosqlite:///x.db", checkup_key="a-separate-checkup-key")
    assert checkup_key(other) != checkup_key(settings)
    with pytest.raises(SealError):
        Sealer.from_settings(other).open(token, "checkup-response:1:5")
    # the check-up key is not the audit chain's key, though both come from the secret key
    from backend.audit.service import chain_key

    assert checkup_key(settings) != chain_key(settings.secret_key.get_secret_value())
