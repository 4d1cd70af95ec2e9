"""Handing a contact request to support: a JSON POST to a webhook and/or an email over SMTP.

Each sender gets one request and either returns (delivered) or raises DeliveryError (retried later
by the outbox). The request's reference names it everywhere: the webhook's Idempotency-Key header
and the email's Message-ID stay the same on every attempt, so a receiver can drop a repeat.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from kb.config import Settings, SmtpSecurity
from kb.errors import DeliveryError

USER_AGENT = "kb-helpcenter contact delivery"
SIGNATURE_HEADER = "X-KB-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
LONGEST_ERROR_BODY = 300


@dataclass(frozen=True)
class Delivery:
    """One outbox row claimed for sending: the channel and what the request says."""

    outbox_id: int
    channel: str
    attempt: int  # 1 for the first try
    reference: str
    request: dict[str, Any]  # the JSON document the webhook receives; the email says the same


Sender = Callable[[Delivery], None]


def configured_channels(settings: Settings) -> list[str]:
    """The channels each new request is delivered over: webhook and/or email, as the settings name them."""
    channels = []
    if settings.contact_webhook_url:
        channels.append("webhook")
    if settings.contact_smtp_host:
        channels.append("email")
    return channels


def request_document(row: Any, came_from: str) -> dict[str, Any]:
    """The request as JSON: every field the customer filled in, the suggestions shown, and where they came from."""
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=datetime.UTC)
    return {
        "reference": row.reference,
        "created_at": created.isoformat(timespec="seconds"),
        "name": row.name,
        "email": row.email,
        "product": row.product,
        "order_number": row.order_number,
        "purchase_date": row.purchase_date.isoformat() if row.purchase_date else None,
        "warranty": row.warranty,
        "subject": row.subject,
        "description": row.description,
        "suggestions_shown": json.loads(row.suggestions or "[]"),
        "came_from": came_from or None,
    }


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured: following it could send the request somewhere unintended."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(settings: Settings, delivery: Delivery) -> None:
    """POST the request as JSON; any 2xx answer delivers it.

    Raises:
        DeliveryError: the server answered otherwise, did not answer within the timeout, or cannot be reached.
    """
    body = json.dumps(delivery.request, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        IDEMPOTENCY_HEADER: delivery.reference,
    }
    if settings.contact_webhook_secret:
        digest = hmac.new(settings.contact_webhook_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    request = urllib.request.Request(settings.contact_webhook_url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=settings.contact_delivery_timeout) as answer:
            answer.read(LONGEST_ERROR_BODY)
            status = answer.status
    except urllib.error.HTTPError as error:
        detail = error.read(LONGEST_ERROR_BODY).decode("utf-8", "replace").strip()
        raise DeliveryError(f"the webhook answered {error.code} {error.reason}: {detail}".rstrip(": ")) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"the webhook could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"the webhook answered {status}, not 2xx")


def email_message(settings: Settings, delivery: Delivery) -> EmailMessage:
    """A plain-text email with every field; replies go to the customer."""
    document = delivery.request
    message = EmailMessage()
    message["Subject"] = f"[{delivery.reference}] {document['subject']}"
    message["From"] = settings.contact_email_from
    message["To"] = ", ".join(address.strip() for address in settings.contact_email_to.split(",") if address.strip())
    message["Reply-To"] = email.utils.formataddr((document["name"], document["email"]))
    message["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
    domain = settings.contact_email_from.rpartition("@")[2] or "kb.invalid"
    message["Message-ID"] = f"<{delivery.reference}@{domain}>"  # the same on every attempt
    message["X-KB-Reference"] = delivery.reference
    lines = [
        f"Reference: {delivery.reference}",
        f"Received: {document['created_at']}",
        f"Name: {document['name']}",
        f"Email: {document['email']}",
        f"Product or plan: {document['product'] or '-'}",
        f"Order number: {document['order_number'] or '-'}",
        f"Purchase date: {document['purchase_date'] or '-'}",
        f"Warranty or contract: {document['warranty'] or '-'}",
        f"Subject: {document['subject']}",
        f"Came from the article: {document['came_from'] or '-'}",
        f"Articles suggested before sending: {', '.join(document['suggestions_shown']) or 'none'}",
        "",
        "Description:",
        document["description"],
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(settings: Settings, delivery: Delivery) -> None:
    """Mail the request through the configured SMTP server.

    Raises:
        DeliveryError: the server cannot be reached, refuses the login or the message, or times out.
    """
    message = email_message(settings, delivery)
    host, port, timeout = settings.contact_smtp_host, settings.contact_smtp_port, settings.contact_delivery_timeout
    try:
        client: smtplib.SMTP
        if settings.contact_smtp_security == SmtpSecurity.SSL:
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if settings.contact_smtp_security == SmtpSecurity.STARTTLS:
                client.starttls(context=ssl.create_default_context())
            if settings.contact_smtp_user:
                client.login(settings.contact_smtp_user, settings.contact_smtp_password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:  # timeouts and TLS errors are OSErrors
        raise DeliveryError(f"the mail server {host}:{port} did not take the message: {error}") from None


def senders(settings: Settings) -> dict[str, Sender]:
    """The sender of each channel, bound to the settings."""
    return {
        "webhook": lambda delivery: send_webhook(settings, delivery),
        "email": lambda delivery: send_email(settings, delivery),
    }
