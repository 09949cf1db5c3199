"""Random sequences of actions by random roles keep the workflow's invariants (Hypothesis).

After every step: the state is one of the table's, the version never decreases and rises on
every accepted action, every accepted action appends exactly the history it should (and a
refused one appends nothing), a state change follows the transition table, and the whole
chain verifies, and the statistics roll-up behind the dashboards equals a computation from
scratch.
"""
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.cases.conftest import determination
from tracker.cases import operations as ops
from tracker.cases.permissions import available_actions, can_view_case
from tracker.cases.states import TRANSITIONS, Action, CaseState
from tracker.core.database import utcnow
from tracker.core.errors import DomainError
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.reports import stats

ROLES = ("sup", "sup2", "head", "other_head", "admin", "external")


def _params(action, case, org, violation_type, choice):
    interview = case.interviews[choice % len(case.interviews)].id if case.interviews else 1
    measure = case.measures[choice % len(case.measures)].id if case.measures else 1
    return {
        Action.record_inquiry: {"facts": "事实", "persons": "当事人", "accountability": "责任分析"},
        Action.submit_explanation: {"text": "说明"},
        Action.mark_unfounded: {"reason": "不属实"},
        Action.determine: determination(org, violation_type),
        Action.appeal: {"grounds": "理由"},
        Action.decide_appeal: {"decision": ("upheld", "overturned", "amended")[choice % 3], "reason": "裁决",
                               **determination(org, violation_type)},
        Action.schedule_interview: {"measure_id": measure, "scheduled_at": utcnow() + timedelta(days=1),
                                    "location": "会议室", "interviewer": "王"},
        Action.record_interview: {"interview_id": interview, "held_at": utcnow(), "minutes": "记录"},
        Action.acknowledge_interview: {"interview_id": interview},
        Action.submit_rectification: {"text": "整改"},
        Action.return_rectification: {"reason": "不到位"},
        Action.accept_rectification: {"note": "同意"},
        Action.record_follow_up: {"result": ("satisfied", "unsatisfied")[choice % 2], "note": ""},
        Action.reopen: {"reason": "复查"},
        Action.extend_deadline: {"kind": "handling", "days": 1, "reason": "延期"},
        Action.pause_deadline: {"kind": "handling", "reason": "暂停"},
        Action.resume_deadline: {"kind": "handling"},
        Action.merge_into: {"target_number": "JD-0000-000000", "reason": "重复"},
        Action.grant_complainant_access: {"username": "head_hall", "reason": "回访"},
        Action.complete_measure: {"measure_id": measure},
    }.get(action, {})


def test_random_workflows_keep_the_invariants(org, people, violation_type, make_case):
    class Workflow(RuleBasedStateMachine):
        @initialize()
        def new_case(self):
            self.case = make_case()
            self.version = self.case.version
            self.events = self._event_count()

        def _event_count(self):
            return db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
                HistoryEvent.case_id == self.case.id))

        @rule(action=st.sampled_from(list(Action)), role=st.sampled_from(ROLES), choice=st.integers(0, 5),
              stale=st.booleans())
        def anything(self, action, role, choice, stale):
            """Any action by anyone, often refused."""
            self._try(action, self._actor(role), choice, stale)

        @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 50), choice=st.integers(0, 5))
        def something_allowed(self, role, pick, choice):
            """An action the page would offer this user now, so runs get deep into the workflow."""
            actor = self._actor(role)
            offered = available_actions(actor, self.case) if can_view_case(actor, self.case) else []
            # Mostly move forward (a step that changes the state, or completes the inquiry or a
            # measure), sometimes anything offered.
            forward = [a for a in offered if TRANSITIONS[a].to_state not in (None, CaseState.closed)
                       or a in (Action.record_inquiry, Action.close, Action.complete_measure,
                                Action.schedule_interview, Action.record_interview, Action.acknowledge_interview)]
            if forward and choice % 4:
                offered = forward
            if offered:
                self._try(offered[pick % len(offered)], actor, choice, stale=False)

        def _actor(self, role):
            return {"sup": people.sup, "sup2": people.sup2, "head": people.head, "other_head": people.other_head,
                    "admin": people.admin, "external": people.external}[role]

        def _try(self, action, actor, choice, stale):
            before_state, before_version = self.case.state, self.case.version
            version = before_version - 1 if stale else before_version
            savepoint = db.session.begin_nested()
            try:
                ops.perform(self.case, action, actor=actor, version=version,
                            **_params(action, self.case, org, violation_type, choice))
                db.session.flush()
            except DomainError:
                savepoint.rollback()
                db.session.expire(self.case)
                assert self.case.version == before_version and self.case.state == before_state
                assert self._event_count() == self.events, "a refused action left history behind"
                return
            savepoint.commit()
            assert not stale, "a stale version was accepted"
            assert self.case.version == before_version + 1  # exactly one bump per accepted action
            new_events = self._event_count() - self.events
            assert new_events >= 1, "an accepted action wrote no history"
            expected = TRANSITIONS[action].to_state
            if expected is not None and not (action == Action.merge_into):
                assert self.case.state == expected
            self.events += new_events

        @invariant()
        def consistent(self):
            assert self.case.state in CaseState
            assert self.case.version >= self.version
            self.version = self.case.version
            if self.case.state == CaseState.closed:
                assert self.case.closed_at is not None

        @invariant()
        def chain_verifies(self):
            assert verify_chain().ok

        @invariant()
        def statistics_in_step(self):
            assert stats.check(db.session.connection()) == []

    run_state_machine_as_test(
        Workflow,
        settings=settings(max_examples=30, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )
