"""The results page quotes a long query once, cut short, in its title and its heading."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

LONG_QUERY = "Hello, I sent my client an invoice three days ago and they say it never arrived in their inbox"
SHOWN = "Hello, I sent my client an invoice three days ago and they …"


def test_a_long_query_is_cut_short_in_the_title_and_the_heading(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": LONG_QUERY}).get_data(as_text=True)
    [title] = re.findall(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title.startswith(f"{SHOWN} · Search · ")
    [status] = re.findall(r'<p class="muted" role="status">(.*?)</p>|<p role="status">(No articles.*?)</p>', page)
    heading = "".join(status)
    assert f"“{SHOWN}”" in heading
    assert heading.count(SHOWN) == 1
    # The whole query stays only in the search box, for the customer to edit.
    assert page.count("never arrived in their inbox") == 1
    assert f'value="{LONG_QUERY}"' in page
