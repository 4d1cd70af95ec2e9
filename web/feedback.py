""" "Was this helpful?": a plain form at the end of every article, a thank-you, and an optional reason and comment.

Works without JavaScript (a form post, then a redirect to the thank-you page), is CSRF-protected
like every form of the site, rate limited per address, and keeps one vote per visitor and article
(the visitor id cookie; a changed answer updates the vote). Internal articles take votes from
signed-in agents only. A database that is down costs the vote, never the article: the thank-you
page says to try again and keeps what was typed.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests

from kb.errors import ConfigError, DatabaseUnavailableError
from kb.index.format import ArticleRecord
from kb.search.service import Audience
from kb.store.data_folder import database_url
from kb.store.database import Storage
from kb.store.feedback import MAX_COMMENT_LENGTH, REASONS, record_vote
from kb.store.resilience import DatabaseGuard
from kb.store.schema import display_url
from web.auth import signed_in_agent
from web.state import help_center
from web.visitors import address_key, visitor_id

blueprint = Blueprint("feedback", __name__)
logger = logging.getLogger("kb.web")
ANSWERS = {"yes": True, "no": False}
UNAVAILABLE = "We could not record your answer just now. Please try again in a moment."
# Customers' writes wait their turn (a burst of votes is not turned away) but never long.
CUSTOMER_PERMIT_WAIT_SECONDS = 3.0
CUSTOMER_COOLDOWN_SECONDS = 1.0


def customer_storage() -> Storage:
    """The database for customers' own writes (votes), with a patient guard of its own."""
    return current_app.extensions["kb_customer_storage"]


def votable_article(slug: str) -> tuple[ArticleRecord, bool]:
    """(the article, whether it is internal) if this visitor may vote on it; 404 otherwise."""
    center = help_center()
    record = center.article_or_renamed(slug)
    if record is not None:
        return record, False
    record = center.article_or_renamed(slug, Audience.AGENT)
    if record is not None and signed_in_agent() is not None:
        return record, True
    abort(404, description="We couldn't find that article.")


def article_link(record: ArticleRecord, internal: bool) -> str:
    endpoint = "agent.article" if internal else "pages.article"
    return url_for(endpoint, slug=record.slug)


class VoteLimit:
    """Votes per minute per address hash, in the rate-limit storage (Redis) or each worker's memory."""

    def __init__(self, uri: str, most: int) -> None:
        from limits import RateLimitItemPerMinute
        from limits.errors import ConfigurationError
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        try:
            self.limiter = MovingWindowRateLimiter(storage_from_string(uri or "memory://"))
        except (ConfigurationError, NotImplementedError) as error:
            raise ConfigError(f"KB_RATE_LIMIT_STORAGE {uri!r} cannot count votes: {error}") from None
        self.item = RateLimitItemPerMinute(most)

    def allow(self, key: str) -> bool:
        """Count one vote; False once the limit is reached. A limit storage that fails lets votes through."""
        try:
            return bool(self.limiter.hit(self.item, "kb-votes", key))
        except Exception:
            logger.warning("the vote limit's storage failed; the vote is let through", exc_info=True)
            return True


def render_feedback(record: ArticleRecord, internal: bool, helpful: bool, **context: Any) -> str:
    return render_template(
        "feedback.html",
        article=record,
        article_link=article_link(record, internal),
        helpful=helpful,
        reasons=REASONS,
        max_comment_length=MAX_COMMENT_LENGTH,
        # The contact form (web/contact.py) names the article that did not help.
        contact_link=None if internal else f"/contact?{urlencode({'from': record.slug})}",
        **context,
    )


@blueprint.post("/articles/<slug>/vote")
def vote(slug: str) -> Any:
    record, internal = votable_article(slug)
    answer = request.form.get("helpful", "")
    if answer not in ANSWERS:
        abort(400, description="Choose Yes or No.")
    helpful = ANSWERS[answer]
    reason = request.form.get("reason", "")
    comment = request.form.get("comment", "")
    told = {"reason": reason, "comment": comment}
    if reason and reason not in REASONS:
        return render_feedback(record, internal, helpful, error="Choose one of the reasons listed.", **told), 400
    if len(comment.strip()) > MAX_COMMENT_LENGTH:
        message = f"Your comment is {len(comment.strip())} characters long; please keep it to {MAX_COMMENT_LENGTH}."
        return render_feedback(record, internal, helpful, error=message, **told), 400
    try:
        if not current_app.extensions["kb_vote_limit"].allow(address_key()):
            raise TooManyRequests("You have sent many answers in a short time. Please wait a minute and try again.")
        record_vote(customer_storage(), record.slug, visitor_id(create=True) or "", helpful, reason, comment)
    except DatabaseUnavailableError as error:
        logger.warning("a vote on %s was not recorded: %s", record.slug, error)
        return render_feedback(record, internal, helpful, error=UNAVAILABLE, **told), 503
    more = "1" if reason or comment.strip() else None
    return redirect(url_for("feedback.thanks", slug=record.slug, answer=answer, told=more), code=303)


@blueprint.get("/articles/<slug>/feedback")
def thanks(slug: str) -> str:
    """The thank-you: after a "no", the contact form is offered; the reason and comment form until they are sent."""
    record, internal = votable_article(slug)
    helpful = ANSWERS.get(request.args.get("answer", ""), True)
    return render_feedback(record, internal, helpful, told_more=request.args.get("told") == "1")


def init_app(app: Flask) -> None:
    config = app.config["KB_SETTINGS"]
    url = database_url(config)
    guard = DatabaseGuard(
        display_url(url),
        concurrent_calls=max(1, config.threads // 2),
        permit_wait_seconds=CUSTOMER_PERMIT_WAIT_SECONDS,
        cooldown_seconds=CUSTOMER_COOLDOWN_SECONDS,
    )
    app.extensions["kb_customer_storage"] = Storage(url, guard)
    app.extensions["kb_vote_limit"] = VoteLimit(config.rate_limit_storage, config.votes_per_minute)
    app.register_blueprint(blueprint)
