"""The OpenAPI document at /api/openapi.json: valid, complete, and true of what the API really answers."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

import kb
from kb.config import Settings
from kb.store.database import LINK_ACTIONS
from tests.conftest import AppFactory, bearer_headers
from tests.database_faults import refusing_url
from web.openapi import NOT_BLANK, openapi_document

DOCUMENT_URI = "urn:kb:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UNDOCUMENTED_RULES = {"/api/openapi.json"}  # the document does not describe itself
# Answered by gunicorn before the app sees the request; tests/web/test_http_server.py exercises them.
SERVER_ANSWERS = {("/api/search", "get", 414), ("/api/articles/{slug}", "get", 414)}


def pointer_segment(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def schema_validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer`, whose `$ref`s resolve against the whole document."""
    registry: Registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def response_pointer(document: dict[str, Any], path: str, method: str, status: int) -> str:
    """JSON pointer to the response the document gives for this operation and status (following a $ref)."""
    answers = document["paths"][path][method]["responses"]
    assert str(status) in answers, f"{method.upper()} {path} does not document status {status}"
    if "$ref" in answers[str(status)]:
        return answers[str(status)]["$ref"].removeprefix("#")
    return "/" + "/".join(pointer_segment(part) for part in ("paths", path, method, "responses", str(status)))


def resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check_against_document(document: dict[str, Any], path: str, method: str, response: TestResponse) -> None:
    """The status is one the operation documents, and the body fits that status's schema."""
    pointer = response_pointer(document, path, method, response.status_code)
    declared = resolve(document, pointer)
    for name in declared.get("headers", {}):
        assert name in response.headers, f"{method.upper()} {path} {response.status_code} lacks {name}"
    if "content" not in declared:
        return
    assert list(declared["content"]) == ["application/json"]
    assert response.mimetype == "application/json"
    schema_validator(document, f"{pointer}/content/application~1json/schema").validate(response.get_json())


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any], built_settings: Settings) -> None:
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == built_settings.site_name
    assert document["info"]["version"] == kb.__version__
    assert document["servers"] == [{"url": "/"}]
    assert document == openapi_document(built_settings)


def test_the_document_is_served_before_any_index_is_built(unbuilt_app: Flask) -> None:
    response = unbuilt_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    validate(response.get_json(), cls=OpenAPIV31SpecValidator)


def test_every_schema_is_valid_json_schema_2020_12(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_limits_are_those_of_the_running_configuration(make_app: AppFactory, settings: Settings) -> None:
    app = make_app(
        settings,
        site_name="Acme Help",
        max_results=7,
        default_results=4,
        max_query_length=300,
        max_message_length=900,
        max_request_bytes=4096,
    )
    document = app.test_client().get("/api/openapi.json").get_json()
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["info"]["title"] == "Acme Help"
    query, count, _ = document["paths"]["/api/search"]["get"]["parameters"]
    assert query["name"] == "q" and query["required"] is True
    assert query["schema"] == {"type": "string", "pattern": NOT_BLANK, "maxLength": 300}
    assert count["name"] == "k"
    assert count["schema"] == {"type": "integer", "minimum": 1, "maximum": 7, "default": 4}
    suggest_body = document["paths"]["/api/suggest"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert suggest_body["allOf"][1]["properties"] == {
        "text": {"maxLength": 900},
        "k": {"type": "integer", "minimum": 1, "maximum": 7},
    }
    assert "4096 bytes" in document["components"]["responses"]["RequestTooLarge"]["description"]


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask, document: dict[str, Any]) -> None:
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz") or rule.rule in UNDOCUMENTED_RULES:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        served.setdefault(path, set()).update(
            method.lower() for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        )
    documented = {
        path: {method for method in item if method in HTTP_METHODS} for path, item in document["paths"].items()
    }
    assert documented == served


def test_agent_operations_need_the_bearer_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["bearerAuth"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            secured = path in ("/api/suggest", "/api/links")
            assert (operation.get("security") == [{"bearerAuth": []}]) is secured, f"{method} {path}"
            assert ("401" in operation["responses"]) is secured, f"{method} {path}"


def test_request_bodies_follow_the_code(document: dict[str, Any]) -> None:
    link = document["components"]["schemas"]["LinkRequest"]
    assert link["properties"]["action"]["enum"] == list(LINK_ACTIONS)
    assert set(link["properties"]) == {"action", "slug", "section", "query"}
    suggest = document["components"]["schemas"]["SuggestRequest"]
    assert set(suggest["properties"]) == {"text", "k"} and suggest["required"] == ["text"]


def test_response_schemas_forbid_unknown_fields_and_require_every_field(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("Request"):
            continue  # requests: the API ignores fields it does not know
        assert schema["additionalProperties"] is False, name
        assert schema["required"] == list(schema["properties"]), name


def test_the_validator_catches_unknown_and_missing_fields(client: FlaskClient, document: dict[str, Any]) -> None:
    body = client.get("/api/search", query_string={"q": "invoice"}).get_json()
    validator = schema_validator(document, "/components/schemas/SearchResponse")
    validator.validate(body)
    with pytest.raises(ValidationError, match="'debug' was unexpected"):
        validator.validate({**body, "debug": True})
    with pytest.raises(ValidationError, match="'visibility' was unexpected"):
        validator.validate({**body, "results": [{**body["results"][0], "visibility": "public"}]})
    without_score = {key: value for key, value in body["results"][0].items() if key != "score"}
    with pytest.raises(ValidationError, match="'score' is a required property"):
        validator.validate({**body, "results": [without_score]})
    error = schema_validator(document, "/components/responses/NotFound/content/application~1json/schema")
    error.validate({"error": {"code": "not_found", "message": "no article 'x'"}})
    with pytest.raises(ValidationError):
        error.validate({"error": {"code": "not_found", "message": "no article 'x'", "trace": "..."}})
    with pytest.raises(ValidationError):
        error.validate({"error": {"code": "invalid_query", "message": "a 404 never carries this code"}})


@dataclasses.dataclass(frozen=True)
class Call:
    """One real request, named by the documented operation and the status it must get."""

    path: str
    method: str
    status: int
    url: str
    json: Any = None
    data: bytes | None = None
    signed_in: bool = False
    unbuilt: bool = False
    database_down: bool = False  # the agents' database refuses connections; a well-formed token is sent

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url} -> {self.status}"


TOO_LARGE = b'{"text": "' + b"x" * (Settings().max_request_bytes + 1) + b'"}'
CALLS = [
    Call("/api/search", "get", 200, "/api/search?q=send+an+invoice&k=3"),
    Call("/api/search", "get", 400, "/api/search?q="),
    Call("/api/search", "get", 400, "/api/search?q=invoice&k=0"),
    Call("/api/search", "get", 503, "/api/search?q=invoice", unbuilt=True),
    Call("/api/articles/{slug}", "get", 200, "/api/articles/welcome"),
    Call("/api/articles/{slug}", "get", 200, "/api/articles/invoice-basics"),
    Call("/api/articles/{slug}", "get", 301, "/api/articles/forgot-password"),
    Call("/api/articles/{slug}", "get", 404, "/api/articles/no-such-article"),
    Call("/api/articles/{slug}", "get", 404, "/api/articles/refund-escalation-playbook"),
    Call("/api/articles/{slug}", "get", 503, "/api/articles/welcome", unbuilt=True),
    Call("/api/categories", "get", 200, "/api/categories"),
    Call("/api/categories", "get", 503, "/api/categories", unbuilt=True),
    Call("/healthz", "get", 200, "/healthz"),
    Call("/healthz", "get", 503, "/healthz", unbuilt=True),
    Call(
        "/api/suggest",
        "post",
        200,
        "/api/suggest",
        json={"text": "Hi, how do I get a refund? Thanks, Sam", "k": 3},
        signed_in=True,
    ),
    Call("/api/suggest", "post", 400, "/api/suggest", json={"text": "   "}, signed_in=True),
    Call("/api/suggest", "post", 400, "/api/suggest", json={"text": "refund", "k": 0}, signed_in=True),
    Call("/api/suggest", "post", 400, "/api/suggest", data=b"refund", signed_in=True),
    Call("/api/suggest", "post", 401, "/api/suggest", json={"text": "refund"}),
    Call("/api/suggest", "post", 413, "/api/suggest", data=TOO_LARGE, signed_in=True),
    Call("/api/suggest", "post", 503, "/api/suggest", json={"text": "refund"}, signed_in=True, unbuilt=True),
    Call(
        "/api/links",
        "post",
        201,
        "/api/links",
        json={"action": "copy_link", "slug": "invoice-basics", "section": "send-an-invoice", "query": "send invoice"},
        signed_in=True,
    ),
    Call("/api/links", "post", 400, "/api/links", json={"action": "print", "slug": "welcome"}, signed_in=True),
    Call("/api/links", "post", 401, "/api/links", json={"action": "copy_link", "slug": "welcome"}),
    Call(
        "/api/links", "post", 404, "/api/links", json={"action": "copy_link", "slug": "no-such-article"}, signed_in=True
    ),
    Call("/api/links", "post", 413, "/api/links", data=TOO_LARGE, signed_in=True),
    Call(
        "/api/links",
        "post",
        503,
        "/api/links",
        json={"action": "copy_link", "slug": "welcome"},
        signed_in=True,
        unbuilt=True,
    ),
    Call("/api/suggest", "post", 503, "/api/suggest", json={"text": "refund"}, database_down=True),
    Call("/api/links", "post", 503, "/api/links", json={"action": "copy_link", "slug": "welcome"}, database_down=True),
]


def test_the_calls_cover_every_documented_response(document: dict[str, Any]) -> None:
    documented = {
        (path, method, int(status))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }
    assert {(call.path, call.method, call.status) for call in CALLS} | SERVER_ANSWERS == documented


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_live_answers_match_the_document(
    call: Call, app: Flask, unbuilt_app: Flask, make_app: AppFactory, document: dict[str, Any]
) -> None:
    target = unbuilt_app if call.unbuilt else app
    headers = bearer_headers(target) if call.signed_in else {}
    if call.database_down:
        target = make_app(database_url=refusing_url())
        headers = {"Authorization": "Bearer kb_" + "x" * 43}
    options: dict[str, Any] = (
        {"json": call.json}
        if call.json is not None
        else {
            "data": call.data,
            "content_type": "application/json" if call.data and call.data[:1] == b"{" else "text/plain",
        }
    )
    response = target.test_client().open(call.url, method=call.method.upper(), headers=headers, **options)
    assert response.status_code == call.status, response.get_data(as_text=True)
    check_against_document(document, call.path, call.method, response)
    if call.status == 301:
        assert response.headers["Location"] == "/api/articles/reset-password"
    if call.status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if call.database_down:
        assert response.get_json()["error"]["code"] == "database_unavailable"
    if call.path == "/api/suggest" and call.status == 200:
        visibilities = {result["visibility"] for result in response.get_json()["results"]}
        assert visibilities == {"public", "internal"}
    if call.status == 200 and "results" in (body := response.get_json()):
        assert body["results"], "an empty list would leave the result schema unchecked"


@pytest.mark.parametrize(
    "path", ["/api/search", "/api/articles/{slug}", "/api/categories", "/api/suggest", "/api/links", "/healthz"]
)
def test_other_methods_answer_the_documented_405(client: FlaskClient, document: dict[str, Any], path: str) -> None:
    allowed = {method for method in document["paths"][path] if method in HTTP_METHODS}
    wrong = "post" if "get" in allowed else "get"
    for method in (wrong, "put", "delete"):
        response = client.open(path.replace("{slug}", "welcome"), method=method.upper())
        assert response.status_code == 405
        declared = document["components"]["responses"]["MethodNotAllowed"]
        assert set(declared["headers"]) == {"Allow"}
        schema_validator(document, "/components/responses/MethodNotAllowed/content/application~1json/schema").validate(
            response.get_json()
        )
        expected = {method.upper() for method in allowed} | {"OPTIONS"} | ({"HEAD"} if "get" in allowed else set())
        assert set(response.headers["Allow"].split(", ")) == expected
