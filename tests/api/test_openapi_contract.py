"""The API against its own OpenAPI document (schemathesis, in-process WSGI).

The app serves ``/api/v1/openapi.json``; schemathesis loads it (which also validates it as an
OpenAPI 3 document), generates requests for every operation from the schemas and sends them
with the bearer token of a supervisor, then of a unit head, to an app whose database holds the
demo organisation and 30 demo cases. Every answer must:

- never be a server error (``not_a_server_error``),
- have a status code the document names for the operation — named explicitly, not only
  covered by the ``default`` response (``status_code_documented``, below, on top of
  schemathesis' ``status_code_conformance``),
- have the documented content type and match the documented response schema.

Path parameters are sometimes replaced by identifiers that exist (case numbers, unit codes,
bulletin, audit, attachment and feedback ids, action names), and body fields by codes that exist,
so generated requests reach the views' logic and not only their 404s and 422s. Bounded: 12
positive and 6 negative examples per operation (negative data also drops the bearer token),
derandomized, no shrinking; about 15 s per role.

schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run under
pytest 9 (it sets ``Function._nodeid``), so the test asks each operation for its Hypothesis
strategy (``operation.as_strategy``) and collects the failures of all operations.
"""

from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.audits.audit_fixtures import upload
from tracker.accounts.models import User
from tracker.audits.models import Audit, ChecklistTemplate
from tracker.audits.states import AuditAction
from tracker.cases.evidence import store_attachment
from tracker.cases.models import Attachment, Case, ViolationType
from tracker.cases.states import Action
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports import bulletins as bulletin_ops
from tracker.reports.figures import local_date
from tracker.reports.models import Bulletin, Feedback
from tracker.seed.demo import seed_demo
from tracker.units.models import Unit

pytestmark = pytest.mark.no_db_transaction

DEMO_PASSWORD = "contract-demo-2026"
ROLES = {"supervisor": "sup_wang", "unit_head": "head_qh"}


def status_code_documented(ctx, response, case):
    """The status is one the operation names: ``default`` alone does not document it."""
    documented = {str(code) for code in case.operation.definition.raw.get("responses", {})} - {"default"}
    assert str(response.status_code) in documented, (
        f"{case.operation.label}: {response.status_code} is not among the documented responses "
        f"{sorted(documented)}"
    )
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    status_code_documented,
    content_type_conformance,
    response_schema_conformance,
]


def _more_objects():
    """What the demo seed leaves out: a published and a draft bulletin, feedback, evidence."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    today = local_date(utcnow())
    published = bulletin_ops.create_bulletin(
        actor=users["sup_wang"], title="契约测试通报", period_from=today - timedelta(days=60), period_to=today
    )
    bulletin_ops.publish_bulletin(published, actor=users["sup_wang"])
    bulletin_ops.create_bulletin(
        actor=users["sup_wang"], title="草稿", period_from=today - timedelta(days=7), period_to=today
    )
    bulletin_ops.send_feedback(actor=users["ext_xu"], subject="意见", body="内容", bulletin=published)
    case = db.session.scalars(select(Case).order_by(Case.id)).first()
    store_attachment(case, actor=users["sup_wang"], file_storage=upload())


@pytest.fixture(params=sorted(ROLES))
def api_schema(request, fresh_app):
    """The document served by an app on a freshly seeded database, for the role's token."""
    app = fresh_app
    with app.app_context():
        seed_demo(password=DEMO_PASSWORD, cases=30, audits=6)
        _more_objects()
        db.session.commit()
        known_path = {
            "number": db.session.scalars(select(Case.number).order_by(Case.id)).all(),
            "code": db.session.scalars(select(Unit.code).order_by(Unit.id)).all(),
            "bulletin_id": db.session.scalars(select(Bulletin.id)).all(),
            "audit_id": db.session.scalars(select(Audit.id)).all(),
            "attachment_id": db.session.scalars(select(Attachment.id)).all(),
            "feedback_id": db.session.scalars(select(Feedback.id)).all(),
            "action": [a.value for a in Action] + [a.value for a in AuditAction],
        }
        known_body = {
            "unit_code": known_path["code"],
            "template_code": db.session.scalars(select(ChecklistTemplate.code)).all(),
            "violation_type_code": db.session.scalars(select(ViolationType.code)).all(),
            "version": list(range(1, 8)),
            "received_at": [
                (datetime.now(timezone.utc) - timedelta(hours=h)).isoformat() for h in (1, 30, 200)
            ],
        }
        db.session.remove()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    def sometimes_known(values, known):
        if not isinstance(values, dict):
            return st.just(values)
        choices = {name: st.sampled_from(known[name]) for name in values if known.get(name)}
        if not choices:
            return st.just(values)
        return st.one_of(
            st.just(values), st.fixed_dictionaries(choices).map(lambda chosen: {**values, **chosen})
        )

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        return sometimes_known(path_parameters, known_path)

    @schema.hook
    def flatmap_body(context, body):
        return sometimes_known(body, known_body)

    schema.role = request.param
    return schema


@pytest.fixture
def bearer(api_schema):
    client = api_schema.app.test_client()
    response = client.post(
        "/api/v1/tokens", json={"username": ROLES[api_schema.role], "password": DEMO_PASSWORD}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}


def _exercise(operation, mode, headers):
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        # buffered: the client reads the whole answer and closes it (files sent with send_file)
        case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS, buffered=True)

    run()


def test_api_conforms_to_its_openapi_document(api_schema, bearer):
    """Every operation, positive and negative data; all failures are reported together."""
    failures, tested = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()  # an operation the document describes wrongly fails here
        for mode in EXAMPLES:
            tested += 1
            try:
                _exercise(operation, mode, bearer)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collected, reported below
                failures.append(f"{operation.label} ({mode.value}): {str(error)[:3000]}")
    assert tested > 40
    assert not failures, "\n\n".join(failures)


def test_the_openapi_document_is_valid(app):
    """The served document passes the OpenAPI 3 meta-schema; every operation can be tested;
    every operation names its error responses explicitly."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.validate()
    assert not schema.iter_schema_warnings()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        responses = set(operation.definition.raw["responses"])
        if operation.definition.raw.get("security"):
            assert {"401", "403"} <= responses, operation.label
        if "{" in operation.path:
            assert "404" in responses, operation.label
        if "requestBody" in operation.definition.raw:
            assert {"400", "413"} <= responses, operation.label
        assert "422" in responses, operation.label
