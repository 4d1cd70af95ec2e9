"""The folders show the data flow, and the imports keep it: articles → content → index → search → web.

Every import of every module counts, those inside functions too, so a shortcut cannot hide in a
function body. A failure names the importing file, its line and the rule it breaks. And importing
the core, in a fresh interpreter, loads neither Flask nor torch nor FAISS.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPOSITORY

PACKAGES = ("kb", "indexer", "web", "kb_cli")
# Within kb: each layer may import the layers listed for it (and itself); nothing else of kb.
KB_LAYERS: dict[str, set[str]] = {
    "base": set(),  # kb, kb.config, kb.errors, kb.urls
    "content": {"base"},
    "index": {"base", "content"},
    "search": {"base", "content", "index"},
    "authoring": {"base", "content", "index", "search"},
    "store": {"base"},
    "facade": {"base", "content", "index", "search", "authoring", "store"},
}
FACADE_MODULES = {"kb.help_center", "kb.live"}
# Between the top-level packages: who may import whom.
PACKAGE_RULES: dict[str, set[str]] = {
    "kb": {"kb"},
    "indexer": {"kb", "indexer"},
    "web": {"kb", "web"},
    "kb_cli": {"kb", "indexer", "web", "kb_cli"},
}
FORBIDDEN_IN_CORE = {"flask", "gunicorn", "flask_wtf", "flask_limiter"}


def module_name(file: Path, root: Path) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = REPOSITORY) -> dict[str, Path]:
    return {module_name(file, root): file for package in PACKAGES for file in sorted((root / package).rglob("*.py"))}


def imports_of(file: Path, module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import statement in `file`, relative ones resolved."""
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # `from kb import config` imports the module kb.config
                yield f"{base}.{alias.name}", node.lineno


def kb_layer(module: str) -> str:
    if module in FACADE_MODULES:
        return "facade"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in KB_LAYERS and parts[1] != "base":
        return parts[1]
    return "base"


def violations(root: Path = REPOSITORY) -> list[str]:
    """Every import that breaks a layering rule, once per statement: 'path:line: module imports target (rule)'."""
    modules = project_modules(root)
    found: dict[tuple[str, int, str], str] = {}
    for module, file in modules.items():
        package = module.split(".")[0]
        for target, line in imports_of(file, module):
            top = target.split(".")[0]
            rule = None
            if package == "kb" and top in FORBIDDEN_IN_CORE:
                rule = "the core never imports a web framework"
            elif top in PACKAGES and top not in PACKAGE_RULES[package]:
                rule = f"{package} may import only {', '.join(sorted(PACKAGE_RULES[package]))}"
            elif package == "kb" and top == "kb" and target in modules:
                source_layer, target_layer = kb_layer(module), kb_layer(target)
                if target_layer != source_layer and target_layer not in KB_LAYERS[source_layer]:
                    rule = f"kb/{source_layer} may not depend on kb/{target_layer}"
            if rule is not None:
                found.setdefault(
                    (module, line, rule), f"{file.relative_to(root)}:{line}: {module} imports {target} ({rule})"
                )
    return list(found.values())


def import_cycles(root: Path = REPOSITORY) -> list[list[str]]:
    """Cycles among the project's modules (package __init__ files aside, which import their children)."""
    modules = project_modules(root)
    graph = {
        module: sorted(
            {
                target
                for target, _ in imports_of(file, module)
                if target in modules
                and target != module
                and not target.startswith(module + ".")
                and file.name != "__init__.py"
                and modules[target].name != "__init__.py"
            }
        )
        for module, file in modules.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in graph[module]:
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module)
    return cycles


def test_every_import_follows_the_layers() -> None:
    assert violations() == []


def test_no_module_imports_itself_through_others() -> None:
    assert import_cycles() == []


def test_importing_the_core_loads_no_web_framework_and_no_model_library() -> None:
    """Checked in a fresh interpreter: `import kb` stays fast, and the core runs without Flask."""
    code = "import sys, kb.search.service, kb.help_center, kb.live, kb.content.compiler; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    heavy = "import sys, kb.search.service, kb.live; print(sorted({'torch', 'faiss'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", heavy], cwd=REPOSITORY, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    ("file", "line", "rule"),
    [
        ("kb/content/chunking.py", "from kb.search.service import Audience", "kb/content may not depend on kb/search"),
        ("kb/index/lexical.py", "from kb.live import LiveHelpCenter", "kb/index may not depend on kb/facade"),
        ("kb/store/database.py", "from kb.content.articles import Article", "kb/store may not depend on kb/content"),
        ("kb/search/service.py", "import flask", "the core never imports a web framework"),
        ("kb/config.py", "from web import create_app", "kb may import only kb"),
        ("web/pages.py", "from indexer.build import build_index", "web may import only kb, web"),
        ("indexer/watch.py", "from web.state import settings", "indexer may import only indexer, kb"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, file: str, line: str, rule: str) -> None:
    for package in PACKAGES:
        for source in (REPOSITORY / package).rglob("*.py"):
            target = tmp_path / source.relative_to(REPOSITORY)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert violations(tmp_path) == []
    changed = tmp_path / file
    changed.write_text(
        changed.read_text(encoding="utf-8") + f"\n\ndef shortcut() -> None:\n    {line}\n", encoding="utf-8"
    )
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(file) and f"({rule})" in found[0], found


def test_a_cycle_is_caught(tmp_path: Path) -> None:
    for name, text in {
        "kb_cli/__init__.py": "",
        "kb_cli/main.py": "from kb_cli.watch_command import run\n",
        "kb_cli/watch_command.py": "def run() -> None:\n    from kb_cli.main import cli\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    for package in ("kb", "indexer", "web"):
        (tmp_path / package).mkdir()
    assert import_cycles(tmp_path) == [["kb_cli.main", "kb_cli.watch_command", "kb_cli.main"]]
