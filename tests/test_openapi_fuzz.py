"""The OpenAPI document is a promise a generated client relies on: Schemathesis sends what
the document allows and what it forbids to the service in-process, with a token of every
scope, and every check holds: no server error, only documented statuses, content types,
headers and bodies, schema-violating requests refused, schema-valid ones taken.

Two refinements, both stricter than the built-in checks, for the job intake:

- a job the schema allows may still be refused, for what no schema can say (a check digit,
  the law, whether the name fits in the envelope window), but never for its form: a refused
  schema-valid job names only codes of :data:`BEYOND_THE_SCHEMA`;
- a batch answers 200 with one result per job (:class:`~letters.http_models.BatchResult`):
  every job in it that breaks the schema is ``refused``.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from letters.codes import Code
from letters.http import create_app
from letters.ledger import create_token
from letters.ledger.tokens import SCOPES
from tests.conftest import Pipeline

#: The codes a job of the right form may still be refused with: check digits, the rules,
#: the letter's print, and the rules across fields (a person with an organisation number).
BEYOND_THE_SCHEMA = frozenset(
    {
        "bad-org-number",
        "bad-national-id",
        "bad-account",
        "bad-kid",
        "bad-email",
        "bad-postal-code",
        "id-mismatch",
        "due-before-invoice",
        "duplicate-kid",
        "unprintable",
        "word-too-wide",
        "mixed-script",
        "name-does-not-fit",
        "address-does-not-fit",
        "no-iban-for-account",
        "job-conflict",
    }
)
#: Codes that are about the form in general, but also name a rule across fields: an
#: objection's details, and the payment plan's (only a payment_plan has a plan, and it has
#: no single payment.due_date: letters/rules/plans.py), which depend on the job's kind.
ACROSS_FIELDS = {
    "required": ("objection.",),
    "not-allowed": ("objection.", "plan", "payment.due_date"),
}


def _config(examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_str(
        f"""
[generation]
max-examples = {examples}
"""
    )


def _schema(examples: int) -> Any:
    # The app finds the test's runtime through get_runtime() (the pipeline fixture sets it).
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(), config=_config(examples))


quick = _schema(20)
thorough = _schema(300)


@pytest.fixture
def token(pipeline: Pipeline) -> str:
    return create_token(pipeline.runtime.ledger, "fuzz", set(SCOPES))


def _job_validator(case: Any) -> Any:
    raw = case.operation.schema.raw_schema
    job = {"$ref": "#/components/schemas/Job", "components": raw["components"]}
    return jsonschema_rs.validator_for(job)


def _is_jobs(case: Any) -> bool:
    return bool(case.operation.method.upper() == "POST" and case.operation.path == "/v1/jobs")


def _beyond_the_schema(error: dict[str, Any]) -> bool:
    code, field = error["code"], error["field"]
    if code in BEYOND_THE_SCHEMA:
        return True
    if code in ACROSS_FIELDS:
        return field.startswith(ACROSS_FIELDS[code])
    return Code(code).family == "rule"


def positive_jobs_fail_only_beyond_the_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data is taken; a schema-valid job is refused only beyond the schema."""
    if not (_is_jobs(case) and case.meta and case.meta.generation.mode.is_positive):
        return positive_data_acceptance(ctx, response, case)
    body = response.json()
    if response.status_code == 422:
        errors = body["errors"]
    elif response.status_code == 200 and isinstance(case.body, list):
        errors = [e for item in body["items"] for e in item["errors"]]
    else:
        return None
    of_form = [e for e in errors if not _beyond_the_schema(e)]
    assert not of_form, f"a schema-valid job refused for its form: {of_form}"
    return None


def negative_batches_refuse_each_bad_job(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-violating data is refused; in a batch (200), each job that breaks the schema."""
    if not (_is_jobs(case) and response.status_code == 200 and isinstance(case.body, list)):
        return negative_data_rejection(ctx, response, case)
    validator = _job_validator(case)
    items = response.json()["items"]
    assert len(items) == len(case.body)
    for job, item in zip(case.body, items, strict=True):
        if not validator.is_valid(job):
            assert item["status"] == "refused", item
    return None


def _fuzz(case: Any, token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[negative_data_rejection, positive_data_acceptance],
        additional_checks=[
            negative_batches_refuse_each_bad_job,
            positive_jobs_fail_only_beyond_the_schema,
        ],
    )


@quick.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_openapi_promises(case: Any, token: str) -> None:
    _fuzz(case, token)


@pytest.mark.slow
@thorough.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_openapi_promises_thoroughly(case: Any, token: str) -> None:
    _fuzz(case, token)
