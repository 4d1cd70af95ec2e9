"""`kb import zendesk`: a Zendesk Guide export (the Help Center API's JSON) written as kb articles.

Categories and sections become folders with a `_category.yml`, each article a Markdown file: its
HTML body converted by markdownify, labels as tags, drafts as drafts, articles restricted to a
user segment as internal, the old article URL (`/hc/en-us/articles/360001234-Reset-password`)
as aliases so old links redirect (see `web.legacy`). Links between articles become slug links;
the attachments the bodies use are listed for the writer to download.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kb.content.slugs import slugify
from kb.errors import ExportError

ARTICLE_URL = re.compile(r"/hc/(?:[\w-]+/)?articles/(\d+)(?:-[^/?#]*)?")
ATTACHMENT_URL = re.compile(r"/(?:hc/)?(?:[\w-]+/)?(?:article_attachments|attachments/token)/")
MAX_EXPORT_BYTES = 200 * 1024 * 1024
LISTS = ("categories", "sections", "articles")


@dataclass
class ImportReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # files that existed already: never overwritten
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (URL, where to put it)


def read_export(export: Path) -> dict[str, list[dict[str, Any]]]:
    """The categories, sections and articles of an export: a folder of the API's JSON pages, or one file.

    Raises:
        ExportError: a file is not JSON, is too large, or the export has no articles.
    """
    files = sorted(export.glob("*.json")) if export.is_dir() else [export]
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS}
    for file in files:
        if file.stat().st_size > MAX_EXPORT_BYTES:
            raise ExportError(f"{file}: larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MB")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ExportError(f"{file}: not a JSON export ({error})") from None
        if not isinstance(data, dict):
            raise ExportError(f"{file}: expected a JSON object with 'categories', 'sections' or 'articles'")
        for name in LISTS:
            items = data.get(name)
            if isinstance(items, list):
                found[name].extend(item for item in items if isinstance(item, dict) and "id" in item)
    if not found["articles"]:
        raise ExportError(f"{export}: no 'articles' list found (export categories.json, sections.json, articles.json)")
    return found


def unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    taken.add(candidate)
    return candidate


def old_url_aliases(article: dict[str, Any]) -> list[str]:
    """`/hc/en-us/articles/360001234-Reset-password` answers as `360001234-reset-password` and `360001234`."""
    aliases = []
    url = str(article.get("html_url") or "")
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] if url else ""
    if name and slugify(name):
        aliases.append(slugify(name))
    aliases.append(str(article["id"]))
    return list(dict.fromkeys(aliases))


def to_markdown(
    html: str, slugs_by_id: dict[str, str], attachments: list[tuple[str, str]], attachment_folder: str
) -> str:
    """The body as Markdown: H1 as H2, links between articles as slugs, attachments listed, scripts dropped."""
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html or "", "html.parser")
    for tag in soup.find_all(["script", "style", "iframe"]):
        tag.decompose()
    for heading in soup.find_all("h1"):
        heading.name = "h2"  # the title is the page's only H1
    for link in soup.find_all("a", href=True):
        href = str(link["href"])
        match = ARTICLE_URL.search(href)
        if match is not None and match.group(1) in slugs_by_id:
            fragment = urlsplit(href).fragment
            link["href"] = slugs_by_id[match.group(1)] + (f"#{fragment}" if fragment else "")
        elif ATTACHMENT_URL.search(urlsplit(href).path):
            attachments.append((href, f"{attachment_folder}/{Path(urlsplit(href).path).name}"))
    for image in soup.find_all("img", src=True):
        source = str(image["src"])
        if ATTACHMENT_URL.search(urlsplit(source).path) or urlsplit(source).netloc:
            attachments.append((source, f"{attachment_folder}/{Path(urlsplit(source).path).name}"))
    text = markdownify(str(soup), heading_style="ATX", bullets="-", strip=["span", "div"])
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def front_matter(article: dict[str, Any], position: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {"title": " ".join(str(article.get("title") or f"Article {article['id']}").split())}
    labels = [str(label) for label in article.get("label_names") or [] if str(label).strip()]
    if labels:
        metadata["tags"] = labels
    metadata["aliases"] = old_url_aliases(article)
    if article.get("draft"):
        metadata["draft"] = True
    if article.get("user_segment_id") is not None:
        metadata["visibility"] = "internal"  # restricted to signed-in users or a segment: never public here
    locale = str(article.get("locale") or "").lower()
    if locale and locale != "en-us":
        metadata["locale"] = locale
    updated = str(article.get("edited_at") or article.get("updated_at") or "")[:10]
    with contextlib.suppress(ValueError):  # no date, or not one: the article simply shows none
        metadata["updated"] = datetime.date.fromisoformat(updated)
    metadata["order"] = position
    return metadata


def write_new(path: Path, text: str, report: ImportReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as output:  # never overwrite what a writer has
            output.write(text)
    except FileExistsError:
        report.skipped.append(path)
        return
    report.written.append(path)


def import_export(export: Path, root: Path) -> ImportReport:
    """Write every article of the export under `root`; existing files are left as they are.

    Raises:
        ExportError: the export cannot be read.
    """
    data = read_export(export)
    report = ImportReport()
    categories = {str(item["id"]): item for item in data["categories"]}
    sections = {str(item["id"]): item for item in data["sections"]}
    folders: dict[str, str] = {}  # category id -> folder
    taken_folders: set[str] = set()
    for category_id, category in sorted(categories.items(), key=lambda pair: pair[1].get("position") or 0):
        folder = unique(slugify(str(category.get("name") or "")) or f"category-{category_id}", taken_folders)
        folders[category_id] = folder
        write_new(root / folder / "_category.yml", category_file(category), report)
    section_folders: dict[str, str] = {}
    for section_id, section in sections.items():
        parent = folders.get(str(section.get("category_id")), "")
        name = slugify(str(section.get("name") or "")) or f"section-{section_id}"
        section_folders[section_id] = f"{parent}/{name}" if parent else name
        write_new(root / section_folders[section_id] / "_category.yml", category_file(section), report)
    taken: set[str] = set()
    slugs_by_id = {}
    for article in data["articles"]:
        title_slug = slugify(str(article.get("title") or "")) or f"article-{article['id']}"
        slugs_by_id[str(article["id"])] = unique(title_slug, taken)
    for article in data["articles"]:
        slug = slugs_by_id[str(article["id"])]
        folder = section_folders.get(str(article.get("section_id")), "imported")
        metadata = front_matter(article, int(article.get("position") or 0))
        body = to_markdown(str(article.get("body") or ""), slugs_by_id, report.attachments, "attachments")
        text = "---\n" + yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False, width=10_000) + "---\n" + body
        write_new(root / folder / f"{slug}.md", text, report)
    report.attachments = list(dict.fromkeys(report.attachments))
    return report


def category_file(item: dict[str, Any]) -> str:
    data = {"title": " ".join(str(item.get("name") or "Untitled").split())}
    if item.get("description"):
        data["description"] = str(item["description"]).strip()
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
