"""The history chain's verification: its orjson fast path never decides alone."""
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tracker.core.history import canonical_json, record_event, verify_chain
from tracker.extensions import db

# What event data holds once it went through JSON, without floats.
JSON_WITHOUT_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON_WITHOUT_FLOATS)
def test_orjson_writes_what_canonical_json_writes_for_everything_but_floats(value):
    payload = {"seq": 1, "data": value}
    assert orjson.dumps(payload, option=orjson.OPT_SORT_KEYS) == canonical_json(payload).encode()


def test_events_orjson_writes_differently_verify_and_their_tampering_is_found(app_ctx, make_user):
    """Floats such as 1e-05 (orjson: 1e-5) and integers beyond 64 bits (orjson refuses them) take
    the canonical path: an intact event passes, a changed one is named."""
    actor = make_user("supervisor")
    record_event(actor=actor, action="note", subject="test:1", data={"n": 1})
    odd = record_event(actor=actor, action="note", subject="test:2",
                       data={"ratio": 1e-05, "big": 2**70, "mixed": [0.5, "电费", {"b": 1e16, "a": None}]})
    record_event(actor=actor, action="note", subject="test:3", data={"n": 3})
    db.session.commit()
    result = verify_chain()
    assert result.ok and result.checked >= 3

    stored = db.session.scalar(text("SELECT CAST(data AS TEXT) FROM history_events WHERE seq = :s"),
                               {"s": odd.seq})
    db.session.execute(text("UPDATE history_events SET data = :d WHERE seq = :s"),
                       {"d": stored.replace("1e-05", "2e-05"), "s": odd.seq})
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == odd.seq
