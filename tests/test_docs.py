"""The README documents every setting, command and route; a new one without docs fails here."""

from __future__ import annotations

import re

from flask import Flask

from kb.config import describe_settings
from kb_cli.main import cli
from tests.conftest import REPOSITORY

README = (REPOSITORY / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    for variable, _, help_text in describe_settings():
        row = re.search(rf"^\| `{variable}` \| .* \| (.*) \|$", README, re.MULTILINE)
        assert row is not None, f"{variable} is not documented"
        assert row.group(1) == help_text


def test_every_command_and_its_options_are_in_the_readme() -> None:
    for name, command in cli.commands.items():
        assert f"`kb {name}" in README, f"kb {name} is not documented"
        for parameter in command.params:
            for option in parameter.opts:
                if option.startswith("--") and option not in ("--help",):
                    assert option in README, f"kb {name} {option} is not documented"


def test_every_route_is_in_the_readme(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        documented = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        assert f"`GET {documented}" in README or f"`POST {documented}" in README, f"{rule.rule} is not documented"


def test_the_two_setup_commands_are_in_the_readme() -> None:
    assert "pip install -e . && .venv/bin/kb index && .venv/bin/kb serve" in README
    assert "pip install -e '.[test]' && .venv/bin/python -m pytest" in README
