"""Crafted JSON bodies (lone surrogates, deep nesting) are refused with 400 and the one error shape, never a 5xx."""

from __future__ import annotations

import pytest

from kb.store.database import Storage
from tests.web.test_agents import csrf_from, sign_in
from tests.web.test_api import error_of

LONE_SURROGATE_BODIES = [
    ("/api/suggest", b'{"text": "my refund \\ud800 never came", "k": 3}', "'text'"),
    ("/api/links", b'{"action": "copy_link", "slug": "welcome", "query": "\\ud800"}', "'query'"),
    ("/api/links", b'{"action": "copy_link", "slug": "welcome", "section": "a\\udfffb"}', "'section'"),
    ("/api/links", b'{"action": "copy_link", "slug": "welcome", "\\ud800": 1}', "a field name"),
]
DEEPLY_NESTED = b"[" * 20_000 + b"]" * 20_000
DEEPLY_NESTED_OBJECT = b'{"text":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001  # under the 64 KiB body limit


@pytest.fixture
def token(app) -> str:  # type: ignore[no-untyped-def]
    storage: Storage = app.extensions["kb_storage"]
    return storage.add_agent("maria", "correct horse battery")[1]


@pytest.mark.parametrize("url, body, field", LONE_SURROGATE_BODIES)
def test_a_lone_surrogate_in_a_json_body_is_a_400_naming_the_field(
    client, token: str, url: str, body: bytes, field: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        url, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    message = error_of(response, 400, "invalid_query")
    assert field in message
    assert "surrogate" in message
    assert client.application.extensions["kb_storage"].link_events() == []


@pytest.mark.parametrize("url", ["/api/suggest", "/api/links"])
@pytest.mark.parametrize("body", [DEEPLY_NESTED, DEEPLY_NESTED_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_is_a_400_not_a_crash(client, token: str, url: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        url, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert "nested" in error_of(response, 400, "invalid_query")


@pytest.mark.parametrize(
    "body",
    [b'{"action": "copy_link", "slug": "welcome", "query": "\\ud800"}', DEEPLY_NESTED, b"not json"],
    ids=["surrogate", "nested", "not-json"],
)
def test_the_workspace_tracker_refuses_crafted_json_in_the_one_error_shape(client, token: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    sign_in(client)
    csrf = csrf_from(client.get("/agent/").get_data(as_text=True))
    response = client.post("/agent/track", data=body, headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})
    error_of(response, 400, "invalid_query")
