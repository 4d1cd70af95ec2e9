"""Write a synthetic help center of any size, shaped like a real one, for scale benchmarks.

    python bench/generate_help_center.py /tmp/hc-10k --articles 10000 [--seed 7]

Articles are made from a product vocabulary (areas, features, objects, platforms, errors) and the
kinds of article a help center has (how-to, troubleshooting, reference, policy, FAQ), so queries
such as "export invoices to CSV" or "error E1042 when syncing the calendar" have a few right answers
among many near misses, as in a real help center. Lengths vary (two to seven sections, four on average, one to five
paragraphs each, some steps, tables and code), about 5% of the articles are internal, about 3% are
drafts, and categories hold 50 to a few hundred articles each. The same seed gives the same files.
The output is no one's content: it is generated, so it may be committed, shared and published.
"""

from __future__ import annotations

import argparse
import datetime
import random
from pathlib import Path

AREAS = {
    "account": ["password", "two-factor authentication", "single sign-on", "profile", "email address", "session"],
    "billing": ["invoice", "subscription", "payment method", "refund", "tax rate", "receipt", "coupon"],
    "calendar": ["event", "recurring meeting", "time zone", "reminder", "shared calendar", "availability"],
    "contacts": ["contact", "company record", "duplicate contact", "custom field", "tag", "segment"],
    "documents": ["document", "template", "signature request", "attachment", "folder", "version history"],
    "inventory": ["product", "stock level", "warehouse", "barcode", "purchase order", "supplier"],
    "messaging": ["inbox", "shared inbox", "email signature", "auto-reply", "chat widget", "canned response"],
    "mobile": ["iOS app", "Android app", "push notification", "offline mode", "camera upload", "widget"],
    "projects": ["project", "task", "milestone", "time entry", "Kanban board", "Gantt chart"],
    "reports": ["dashboard", "custom report", "scheduled report", "chart", "CSV export", "KPI"],
    "security": ["API key", "audit log", "IP allowlist", "data retention", "encryption", "permission"],
    "integrations": ["webhook", "Slack integration", "Zapier", "Google Drive", "Salesforce sync", "REST API"],
    "team": ["user seat", "role", "team", "invitation", "guest user", "workspace owner"],
    "shipping": ["shipment", "shipping label", "tracking number", "return label", "carrier", "delivery address"],
}
PLATFORMS = [
    "the web app",
    "the desktop app for Windows",
    "the desktop app for macOS",
    "the iOS app",
    "the Android app",
]
PLANS = ["Free", "Starter", "Pro", "Business", "Enterprise"]
VERBS = ["create", "edit", "delete", "export", "import", "share", "archive", "restore", "sync", "schedule"]
SYMPTOMS = [
    "is missing",
    "won't load",
    "shows the wrong date",
    "is stuck at pending",
    "fails with an error",
    "appears twice",
    "is out of date",
    "can't be saved",
]
CAUSES = [
    "a browser extension blocks the request",
    "the workspace's time zone differs from your device's",
    "your role does not include this permission",
    "the connected account's authorisation expired",
    "the file is larger than the upload limit",
    "a filter hides some of the records",
    "the sync runs every fifteen minutes, not instantly",
    "the plan's monthly limit was reached",
]
SENTENCES = [
    "You can {verb} a {thing} from {platform}; the change reaches every device within a minute.",
    "On the {plan} plan and above, {things} can also be linked to a {other}.",
    "If the {thing} {symptom}, the usual reason is that {cause}.",
    "Only workspace owners and admins can {verb} {things} that other people created.",
    "Each {thing} keeps a history of changes for 90 days, so you can see who changed what.",
    "The {Thing} page lists every {thing} with its status, owner and the date it last changed.",
    "When you {verb} a {thing}, people who follow it get an email and a notification in the app.",
    "Exports include every {thing} you can see, with one row per {thing} and one column per field.",
    "Nothing is deleted for 30 days: restore a {thing} from the trash if you change your mind.",
    "Keyboard users can press Ctrl+K and type the {thing}'s name to open it from anywhere.",
    "Bulk actions work on up to 500 {things} at a time; select them with the checkboxes first.",
    "Changes made offline in {platform} are sent as soon as the device is back online.",
    "Error E{code} means the request timed out; wait a minute and try again before contacting us.",
    "Admins can limit who may {verb} {things} under **Settings → Roles**.",
    "The {area} module must be switched on for your workspace before {things} appear in the menu.",
    "A {thing} created by the API behaves exactly like one created in the app.",
    "Clearing the browser cache fixes most display problems with {things} in the web app.",
    "The audit log records who did what to each {thing}, and when, for the last 12 months.",
    "Guests see {things} that are shared with them but cannot {verb} them.",
    "You get an email receipt whenever a {thing} is changed on your behalf by our support team.",
    "Large workspaces may take up to an hour to finish a first sync of {things}.",
    "Use the search bar's filters to find a {thing} by owner, status or date.",
    "Mobile apps show the last 200 {things}; older ones open in the web app.",
    "If your company uses single sign-on, {things} follow the identity provider's permissions.",
    "We keep a copy of every {thing} in two data centres, so an outage never loses your work.",
]
KINDS = ("howto", "troubleshoot", "reference", "policy", "faq")
WORDS_OF_KIND = {
    "howto": ["How to {verb} a {thing}", "{Verb} {things} in {platform}", "Set up {thing} for your team"],
    "troubleshoot": ["{Thing} {symptom}", "Error E{code} when you {verb} a {thing}", "Fix problems with {thing}"],
    "reference": ["{Thing} settings explained", "Limits for {things} on each plan", "{Thing} fields reference"],
    "policy": ["Our {thing} policy", "What happens to {things} when you cancel", "{Thing} and your data"],
    "faq": ["Questions about {things}", "Can I {verb} {things} in bulk?", "Why can't I {verb} a {thing}?"],
}


def plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


class Writer:
    """Makes one article at a time from a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.used_slugs: set[str] = set()
        self.unused: list[str] = []

    def pick(self, options: list[str]) -> str:
        return self.random.choice(options)

    def words(self, area: str, thing: str) -> dict[str, str]:
        verb = self.pick(VERBS)
        return {
            "area": area,
            "thing": thing,
            "Thing": thing[:1].upper() + thing[1:],
            "things": plural(thing),
            "verb": verb,
            "Verb": verb.capitalize(),
            "platform": self.pick(PLATFORMS),
            "symptom": self.pick(SYMPTOMS),
            "cause": self.pick(CAUSES),
            "code": str(self.random.randint(1000, 9999)),
            "plan": self.pick(PLANS),
            "other": self.pick([item for items in AREAS.values() for item in items]),
        }

    def slug(self, title: str) -> str:
        base = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())[:70].strip("-")
        slug, number = base, 2
        while slug in self.used_slugs:
            slug, number = f"{base}-{number}", number + 1
        self.used_slugs.add(slug)
        return slug

    def paragraph(self, w: dict[str, str]) -> str:
        """Two to five sentences no other paragraph of the article has used (until all are used)."""
        if not self.unused:
            self.unused = self.random.sample(SENTENCES, len(SENTENCES))
        count = min(self.random.randint(2, 5), len(self.unused))
        chosen, self.unused = self.unused[:count], self.unused[count:]
        return " ".join(sentence.format(**w) for sentence in chosen)

    def section(self, heading: str, w: dict[str, str]) -> list[str]:
        lines = [f"## {heading}", ""]
        roll = self.random.random()
        if roll < 0.35:
            steps = [
                "Go to **Settings → {Thing}**.",
                "Select the {thing} you want to change.",
                "Click **{Verb}** and confirm.",
                "Check the {thing} shows the new status.",
                "If {platform} asks you to sign in again, do so and repeat the last step.",
            ]
            lines += [f"{n}. {step.format(**w)}" for n, step in enumerate(steps[: self.random.randint(3, 5)], 1)]
            lines.append("")
        elif roll < 0.45:
            lines += ["| Plan | {Thing} limit |".format(**w), "|---|---|"]
            lines += [
                f"| {plan} | {limit} |" for plan, limit in zip(PLANS, (5, 50, 500, 5000, "no limit"), strict=True)
            ]
            lines.append("")
        elif roll < 0.52:
            resource = plural(w["thing"]).replace(" ", "-")
            lines += [
                "```bash",
                f"curl -H 'Authorization: Bearer $API_KEY' https://api.example.com/v2/{resource}",
                "```",
                "",
            ]
        for _ in range(self.random.randint(1, 4)):
            lines += [self.paragraph(w), ""]
        return lines

    def article(self, area: str, day: datetime.date) -> tuple[str, str, str]:
        thing = self.pick(AREAS[area])
        kind = self.pick(list(KINDS))
        w = self.words(area, thing)
        title = self.pick(WORDS_OF_KIND[kind]).format(**w)
        slug = self.slug(title)
        headings = [
            "Before you start",
            "Steps",
            f"{w['Verb']} {w['things']} on mobile",
            f"If the {thing} {w['symptom']}",
            "Limits",
            "Who can do this",
            f"{w['Thing']} and {w['other']}",
            "Frequently asked questions",
            "Related settings",
        ]
        chosen = self.random.sample(headings, self.random.choice((2, 3, 3, 4, 4, 5, 6, 7)))
        self.unused = []
        questions = [
            f"how do I {w['verb']} a {thing}",
            f"{thing} {w['symptom']}",
            f"can I {w['verb']} {plural(thing)} on the {w['plan']} plan",
        ][: self.random.randint(0, 3)]
        front = ["---", f"title: {title}", f"summary: What to know to {w['verb']} {plural(thing)} in {w['platform']}."]
        front.append(f"tags: [{thing}, {w['verb']}, {area}]")
        if questions:
            front += ["questions:", *(f"  - {question}" for question in questions)]
        front.append(f"updated: {day.isoformat()}")
        roll = self.random.random()
        if roll < 0.05:
            front.append("visibility: internal")
        elif roll < 0.08:
            front.append("draft: true")
        front.append("---")
        body = [self.paragraph(w), ""]
        for heading in chosen:
            body += self.section(heading, w)
        return slug, title, "\n".join(front + [""] + body)


def generate(folder: Path, articles: int, seed: int) -> int:
    """Write `articles` Markdown files under `folder`, one subfolder per area; returns the sections written."""
    writer = Writer(seed)
    areas = list(AREAS)
    first_day = datetime.date(2024, 1, 1)
    sections = 0
    for number in range(articles):
        area = areas[number % len(areas)] if number < len(areas) else writer.pick(areas)
        day = first_day + datetime.timedelta(days=writer.random.randint(0, 1000))
        slug, _, text = writer.article(area, day)
        (folder / area).mkdir(parents=True, exist_ok=True)
        (folder / area / f"{slug}.md").write_text(text, encoding="utf-8")
        sections += text.count("\n## ")
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where to write the articles (created; must be empty)")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    if arguments.folder.exists() and any(arguments.folder.iterdir()):
        parser.error(f"{arguments.folder} is not empty")
    sections = generate(arguments.folder, arguments.articles, arguments.seed)
    print(f"wrote {arguments.articles} articles with {sections} sections to {arguments.folder}")


if __name__ == "__main__":
    main()
