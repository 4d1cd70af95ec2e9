"""Theming without forking: site name, logo, brand colour and footer links from settings, and a theme folder.

A theme folder (KB_THEME) works like MkDocs' `custom_dir`: `templates/article.html` there replaces
the built-in template of that name (or extends it with `{% extends "kb/article.html" %}`), and
`static/style.css` replaces the built-in stylesheet; `static/custom.css`, when present, is linked
after the built-in one, so a theme can change a few rules without copying the rest.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from kb.config import Settings, parse_footer_links
from web import assets

BUILT_IN_TEMPLATES = Path(__file__).parent / "templates"
MONTHS = "January February March April May June July August September October November December".split()


def brand_css(colour: str) -> bytes:
    """Custom properties for the brand colour, with a text colour that stays readable on it (WCAG contrast)."""
    red, green, blue = (int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    # White text when it contrasts more than black does on this colour.
    text = "#ffffff" if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else "#111111"
    return f":root{{--brand:{colour};--brand-text:{text}}}\n".encode()


def long_date(value: str | datetime.date | None) -> str:
    """'2026-09-23' as '23 September 2026'; what is no ISO date is shown as it is."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def html_lang(locale: str | None) -> str:
    """An article's locale ('en_GB', 'pt-br') as a BCP 47 tag for `<html lang>` ('en-GB', 'pt-BR')."""
    parts = (locale or "en").replace("_", "-").split("-")
    return "-".join([parts[0].lower(), *(part.upper() if len(part) == 2 else part for part in parts[1:])])


def init_app(app: Flask, settings: Settings) -> None:
    theme = Path(settings.theme).expanduser() if settings.theme else None
    extra: dict[str, bytes] = {}
    if settings.brand_colour:
        extra["brand.css"] = brand_css(settings.brand_colour)
    logo_name = ""
    if settings.logo:
        logo = Path(settings.logo).expanduser()
        logo_name = f"logo{logo.suffix.lower()}"
        extra[logo_name] = logo.read_bytes()
    folders = [theme / "static"] if theme else []
    assets.init_app(app, [*folders, assets.BUILT_IN], extra)
    if theme is not None:
        # The theme's templates first; the built-in ones stay reachable as "kb/NAME" for `{% extends %}`.
        app.jinja_loader = ChoiceLoader(
            [
                FileSystemLoader(theme / "templates"),
                FileSystemLoader(BUILT_IN_TEMPLATES),
                PrefixLoader({"kb": FileSystemLoader(BUILT_IN_TEMPLATES)}),
            ]
        )
    footer_links = parse_footer_links(settings.footer_links)
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["html_lang"] = html_lang

    @app.context_processor
    def theme_globals() -> dict[str, object]:
        return {
            "logo_name": logo_name,
            "footer_links": footer_links,
            "brand_stylesheet": "brand.css" if settings.brand_colour else "",
        }
