"""schemathesis against /api/openapi.json: every operation fuzzed on a real gunicorn server, no 5xx, one error shape.

The requests go through gunicorn, so its own answers (a request line too long, a malformed header)
are judged like the app's. Agent routes get a real token. Generation is derandomized: a run sends
the same requests as the last one, and a finding stays found until it is fixed.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from indexer.build import build_index
from kb.config import Settings
from kb.store.data_folder import database_url
from kb.store.database import Storage
from tests.conftest import DATA, FakeEmbedder
from tests.defences.processes import serving

pytestmark = pytest.mark.defence

EXAMPLES = 250  # per operation and generation mode: about a minute for the whole document
ERROR_SHAPE = "json_error_shape"
# A request refused as too large (body, request line or headers) is refused all the same.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 422, 428, 429, 431]
"""


@dataclass
class Finding:
    check: str
    operation: str
    mode: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.operation} ({self.mode}) -> {self.status}: {self.detail}"


@dataclass
class Fuzzing:
    requests: Counter[str] = field(default_factory=Counter)  # by operation
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)

    def found(self, *checks: str) -> list[str]:
        return sorted({str(finding) for finding in self.findings if finding.check in checks})


def error_shape_problem(response: Any, operation: str) -> str | None:
    """Why an error answer is not `{"error": {"code", "message"}}` (with `status` beside it on /healthz)."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        return f"{content_type or 'no content type'}: {response.content[:200]!r}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"not JSON: {response.content[:200]!r}"
    allowed = {"error", "status"} if operation.endswith("/healthz") else {"error"}
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or not set(body) <= allowed
        or not isinstance(error, dict)
        or set(error) != {"code", "message"}
        or not all(isinstance(value, str) and value for value in error.values())
    ):
        return f"not the error shape: {response.content[:200]!r}"
    return None


def checks() -> list[Callable[..., Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks as openapi

    return [
        not_a_server_error,
        openapi.status_code_conformance,
        openapi.content_type_conformance,
        openapi.response_schema_conformance,
        openapi.response_headers_conformance,
        openapi.negative_data_rejection,
        openapi.positive_data_acceptance,
        openapi.ignored_auth,
    ]


def fuzz(base_url: str, token: str) -> Fuzzing:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.core.failures import FailureGroup

    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=schemathesis.Config.from_str(CONFIG))
    fuzzing = Fuzzing()
    headers = {"Authorization": f"Bearer {token}"}
    transport = {"base_url": base_url, "headers": headers, "timeout": 30}

    def sender(operation: Any, mode: Any) -> Callable[[], None]:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def send(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            fuzzing.requests[operation.label] += 1
            fuzzing.statuses[response.status_code] += 1
            problem = error_shape_problem(response, operation.label)
            if problem:
                fuzzing.findings.append(
                    Finding(ERROR_SHAPE, operation.label, mode.value, response.status_code, problem)
                )
            for check in checks():
                try:
                    case.validate_response(response, checks=[check], headers=headers, transport_kwargs=transport)
                except FailureGroup as group:
                    request = case.as_curl_command(headers={"Authorization": "Bearer TOKEN"})[:300]
                    for failure in group.exceptions:
                        title = f"{failure.title}: {failure.message}".replace("\n", " ")[:300]
                        detail = f"{title}; {request} -> {response.content[:200]!r}"
                        fuzzing.findings.append(
                            Finding(check.__name__, operation.label, mode.value, response.status_code, detail)
                        )

        return send  # type: ignore[no-any-return]

    for result in schema.get_all_operations():
        operation = result.ok()
        fuzzing.operations.append(operation.label)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                sender(operation, mode)()
            except Unsatisfiable:
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label  # e.g. no parameters to break
    return fuzzing


@pytest.fixture(scope="module")
def fuzzing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzing]:
    pytest.importorskip("schemathesis", reason="the schemathesis package is missing: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("fuzzing")
    shutil.copytree(DATA / "help_center", root / "articles")
    settings = Settings(articles=root / "articles", index=root / "index", data=root / "data")
    build_index(settings, FakeEmbedder(), show_progress=False)
    token = Storage(database_url(settings)).add_agent("maria")[1]
    with serving(settings.articles, settings.index, root / "server.log") as base_url:
        yield fuzz(base_url, token)


def test_every_operation_is_fuzzed(fuzzing: Fuzzing, figure) -> None:  # type: ignore[no-untyped-def]
    by_check = Counter(finding.check for finding in fuzzing.findings)
    figure(
        f"schemathesis: {sum(fuzzing.requests.values()):,} requests to {len(fuzzing.operations)} operations "
        f"through gunicorn, statuses {dict(sorted(fuzzing.statuses.items()))}; "
        f"{by_check['not_a_server_error']} server errors, {by_check[ERROR_SHAPE]} errors outside the JSON shape, "
        f"{len(fuzzing.findings)} findings in all {dict(by_check)}"
    )
    assert sorted(fuzzing.operations) == [
        "GET /api/articles/{slug}",
        "GET /api/categories",
        "GET /api/search",
        "GET /healthz",
        "POST /api/links",
        "POST /api/suggest",
    ]
    for operation in fuzzing.operations:
        assert fuzzing.requests[operation] >= 1, operation
    assert sum(fuzzing.requests.values()) >= 4 * EXAMPLES
    assert {200, 400, 401, 404} <= set(fuzzing.statuses)


def test_no_server_errors(fuzzing: Fuzzing) -> None:
    assert fuzzing.found("not_a_server_error") == []
    assert [status for status in fuzzing.statuses if status >= 500] == []


def test_every_error_is_in_the_json_error_shape(fuzzing: Fuzzing) -> None:
    assert fuzzing.found(ERROR_SHAPE) == []


def test_answers_match_the_openapi_document(fuzzing: Fuzzing) -> None:
    conformance = (
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
    assert fuzzing.found(*conformance) == []


def test_agent_routes_enforce_their_token(fuzzing: Fuzzing) -> None:
    assert fuzzing.found("ignored_auth") == []


def test_the_api_accepts_exactly_what_the_document_allows(fuzzing: Fuzzing) -> None:
    assert fuzzing.found("negative_data_rejection", "positive_data_acceptance") == []
