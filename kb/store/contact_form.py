"""The contact form's fields: their limits, and one clear message per field that a customer got wrong."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The longest value of each field, in characters (the columns of contact_requests hold at least this much).
FIELD_LIMITS = {
    "name": 200,
    "email": 320,
    "product": 200,
    "order_number": 100,
    "purchase_date": 10,
    "warranty": 200,
    "subject": 200,
    "description": 5000,
}
FIELDS = tuple(FIELD_LIMITS)
SHORTEST_DESCRIPTION = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 #./_-]*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LABELS = {
    "name": "Your name",
    "email": "Email",
    "product": "Product or plan",
    "order_number": "Order number",
    "purchase_date": "Purchase date",
    "warranty": "Warranty or contract",
    "subject": "Subject",
    "description": "Description",
}


@dataclass(frozen=True)
class ContactForm:
    """A contact request as the customer wrote it, checked field by field."""

    name: str
    email: str
    subject: str
    description: str
    product: str = ""
    order_number: str = ""
    purchase_date: datetime.date | None = None
    warranty: str = ""


def cleaned(fields: Mapping[str, str]) -> dict[str, str]:
    """Every field as text: one-line fields with line breaks folded into spaces, control characters dropped."""
    values = {}
    for name in FIELDS:
        value = CONTROL.sub("", str(fields.get(name, "") or ""))
        if name == "description":
            values[name] = value.replace("\r\n", "\n").strip()
        else:
            values[name] = " ".join(LINE_BREAKS.sub(" ", value).split())
    return values


def too_long(name: str, value: str) -> str | None:
    limit = FIELD_LIMITS[name]
    if len(value) <= limit:
        return None
    return f"{LABELS[name]} must be at most {limit:,} characters (it has {len(value):,})."


def validate(
    fields: Mapping[str, str], products: Sequence[str] = (), today: datetime.date | None = None
) -> tuple[ContactForm | None, dict[str, str]]:
    """(the form, {}) when every field is right, else (None, {field: message}) for each field that is not.

    Args:
        fields: the submitted text of each field (missing ones count as empty).
        products: the products or plans to choose from; empty when the customer types one freely.
        today: the latest purchase date allowed (UTC's today when None).
    """
    values = cleaned(fields)
    errors: dict[str, str] = {}
    for name, value in values.items():
        problem = too_long(name, value)
        if problem:
            errors[name] = problem
    if not values["name"]:
        errors["name"] = "Enter your name."
    if not values["email"]:
        errors["email"] = "Enter your email address."
    elif "email" not in errors and not EMAIL.match(values["email"]):
        errors["email"] = "Enter an email address like name@example.com."
    if products and values["product"] not in products:
        errors["product"] = "Choose your product or plan from the list."
    if values["order_number"] and "order_number" not in errors and not ORDER_NUMBER.match(values["order_number"]):
        errors["order_number"] = "An order number has only letters, digits, spaces and # . / _ -."
    purchase_date = None
    if values["purchase_date"] and "purchase_date" not in errors:
        purchase_date, problem = parse_purchase_date(values["purchase_date"], today)
        if problem:
            errors["purchase_date"] = problem
    if not values["subject"]:
        errors["subject"] = "Enter a subject: a few words about the problem."
    if not values["description"]:
        errors["description"] = "Describe the problem: what you did, what happened and what you expected."
    elif "description" not in errors and len(values["description"]) < SHORTEST_DESCRIPTION:
        errors["description"] = f"Tell us a little more: at least {SHORTEST_DESCRIPTION} characters."
    if errors:
        return None, {name: errors[name] for name in FIELDS if name in errors}
    form = ContactForm(
        name=values["name"],
        email=values["email"],
        subject=values["subject"],
        description=values["description"],
        product=values["product"],
        order_number=values["order_number"],
        purchase_date=purchase_date,
        warranty=values["warranty"],
    )
    return form, {}


def parse_purchase_date(text: str, today: datetime.date | None = None) -> tuple[datetime.date | None, str | None]:
    """(the date, None), or (None, the message) for text that is no YYYY-MM-DD date or a day still to come."""
    example = "Enter the purchase date as YYYY-MM-DD, for example 2026-03-14."
    if not DATE.match(text):
        return None, example
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return None, f"{text} is not a date in the calendar. {example}"
    if day > (today or datetime.datetime.now(datetime.UTC).date()):
        return None, "The purchase date cannot be in the future."
    return day, None
