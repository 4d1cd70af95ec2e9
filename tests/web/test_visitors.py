"""No raw network address is stored: sign-in failures and logs hold the day's salted hash; visitor ids are random."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from kb.store.models import SignInFailureRow
from kb.store.privacy import address_hash, daily_salt
from tests.conftest import csrf_from, sign_in


def test_failed_sign_ins_are_counted_by_the_hashed_address(app: Flask, client: FlaskClient, token: str) -> None:
    client.environ_base.update(REMOTE_ADDR="203.0.113.7")
    assert sign_in(client, password="guess").status_code == 401
    storage = app.extensions["kb_storage"]
    with storage.session(write=True) as session:
        stored = list(session.scalars(select(SignInFailureRow.address)))
        expected = address_hash(daily_salt(session), "203.0.113.7")
    assert stored == [expected]
    with storage.engine.connect() as connection:
        for table in ("sign_in_failures", "searches", "votes"):
            dump = " ".join(str(row) for row in connection.execute(text(f"select * from {table}")))
            assert "203.0.113.7" not in dump


def test_a_visitor_id_is_set_only_by_a_vote_and_a_forged_one_is_replaced(client: FlaskClient) -> None:
    page = client.get("/articles/welcome")
    assert not [cookie for cookie in page.headers.getlist("Set-Cookie") if cookie.startswith("kb_visitor=")]
    client.set_cookie("kb_visitor", "<script>")
    response = client.post(
        "/articles/welcome/vote", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "helpful": "yes"}
    )
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("kb_visitor="))
    assert "<script>" not in cookie
    again = client.post(
        "/articles/welcome/vote", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "helpful": "no"}
    )
    assert not [value for value in again.headers.getlist("Set-Cookie") if value.startswith("kb_visitor=")]
