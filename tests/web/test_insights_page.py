"""/insights: signed-in agents only; overview, tables, SVG charts without scripts, CSV exports, date filters."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from kb.store.database import Storage
from kb.store.report_tables import TABLE_NAMES
from tests.kb.store.test_insights import fill

PERIOD = "since=2026-11-20&until=2026-11-26"
CHARTS = ["searches", "deflection", "self-service", "helpfulness"]


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(client: FlaskClient) -> None:
    urls = ["/insights/", f"/insights/?{PERIOD}", "/insights/gaps.csv", "/insights/no-such.csv"]
    urls += [f"/insights/{name}.csv?{PERIOD}" for name in TABLE_NAMES]
    urls += [f"/insights/charts/{name}.svg" for name in CHARTS]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/agent/sign-in?next=/insights/"), url
        assert b"reset" not in response.data


def test_the_page_shows_each_section_with_charts_as_images(
    signed_in_client: FlaskClient, storage: Storage, app: Flask
) -> None:
    fill(storage)
    response = signed_in_client.get(f"/insights/?{PERIOD}&by=week")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<h2 id="overview">2026-11-20 to 2026-11-26</h2>' in page
    assert re.search(r"<dt>Deflection rate</dt><dd>75%</dd>", page)
    assert re.search(r"<dt>Self-service score</dt><dd>35.0</dd>", page)
    for name in CHARTS:
        assert f'src="/insights/charts/{name}.svg?since=2026-11-20&amp;until=2026-11-26&amp;by=week"' in page
    for name in TABLE_NAMES:
        assert f'href="/insights/{name}.csv?since=2026-11-20&amp;until=2026-11-26&amp;by=week"' in page
    assert "<td>export invoices</td><td>2</td><td>Export invoices | export invoices!</td>" in page
    assert "<td>2026-11-23</td><td>5</td><td>2</td><td>20</td><td>1</td><td>3</td><td>0.75</td><td>25.0</td>" in page
    assert "=HYPERLINK(&#34;http://evil&#34;) the screenshots are old" in page  # escaped, shown as text
    assert "<script>" not in page and " style=" not in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_bad_date_is_refused_with_a_clear_message(signed_in_client: FlaskClient) -> None:
    response = signed_in_client.get("/insights/?since=2026-02-30&until=2026-03-01")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "since: &#39;2026-02-30&#39; is not a date; write it as YYYY-MM-DD" in page
    assert 'name="since" value="2026-02-30"' in page  # the filter stays as typed, to correct it
    for url in ("/insights/links.csv?until=yesterday", "/insights/charts/searches.svg?by=month"):
        response = signed_in_client.get(url)
        assert response.status_code == 400, url
    assert "by: &#39;month&#39; is not one of day, week" in response.get_data(as_text=True)


def test_every_table_downloads_as_csv_with_a_safe_name(signed_in_client: FlaskClient, storage: Storage) -> None:
    fill(storage)
    for name in TABLE_NAMES:
        response = signed_in_client.get(f"/insights/{name}.csv?{PERIOD}")
        assert response.status_code == 200, name
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="kb-insights-{name}-2026-11-20-2026-11-26.csv"'
        )
    comments = signed_in_client.get(f"/insights/comments.csv?{PERIOD}").get_data(as_text=True)
    assert comments.splitlines()[1].startswith("2026-11-23,reset-password,no,outdated,\"'=HYPERLINK(")
    gaps = signed_in_client.get(f"/insights/gaps.csv?{PERIOD}").get_data(as_text=True).splitlines()
    assert gaps[0] == "gap,title,searches,queries,phrasings"
    assert [line.split(",")[1:4] for line in gaps[1:]] == [["Export invoices", "2", "1"], ["Zzz", "1", "1"]]
    assert signed_in_client.get(f"/insights/passwords.csv?{PERIOD}").status_code == 404
    assert signed_in_client.get("/insights/..%2Fsecret.csv").status_code == 404


def test_charts_are_svg_without_scripts(signed_in_client: FlaskClient, storage: Storage) -> None:
    fill(storage)
    for name in CHARTS:
        response = signed_in_client.get(f"/insights/charts/{name}.svg?{PERIOD}")
        assert response.status_code == 200, name
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        svg = response.get_data(as_text=True)
        assert "<svg" in svg and "<script" not in svg.lower() and "javascript:" not in svg.lower()
    helpfulness = signed_in_client.get(f"/insights/charts/helpfulness.svg?{PERIOD}").get_data(as_text=True)
    assert "reset-password" in helpfulness and "billing" in helpfulness
    assert signed_in_client.get("/insights/charts/passwords.svg").status_code == 404


def test_an_empty_database_gives_an_empty_page(signed_in_client: FlaskClient) -> None:
    response = signed_in_client.get("/insights/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("Nothing in this period.") == 7  # every table but the trends
