"""The slugs each article file had in its git history, read with three git calls per articles folder."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from kb.content.front_matter import parse_article_text
from kb.content.slugs import SLUG_PATTERN, slugify
from kb.errors import ArticleError

GIT_TIMEOUT_SECONDS = 60
COMMIT_MARK = "\x01"

Version = tuple[str, str]  # (commit, path relative to the articles folder at that commit)


def run_git(folder: Path, *arguments: str, stdin: bytes | None = None) -> bytes | None:
    """Output of a git command run in `folder`, or None when git is missing or the command fails."""
    try:
        result = subprocess.run(
            ["git", *arguments], cwd=folder, input=stdin, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def name_status_entries(fields: list[str]) -> Iterator[tuple[str, list[str]]]:
    """(status letter, paths) from the NUL-separated fields of `--name-status -z` output."""
    position = 0
    while position < len(fields):
        status = fields[position].strip()
        position += 1
        if not status:
            continue
        count = 2 if status[0] in "RC" else 1
        paths = fields[position : position + count]
        position += count
        if len(paths) == count:
            yield status[0], paths


def follow_names(names: dict[str, str], entries: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """Step `names` (path at this point of history -> current path) back over one commit's changes.

    Returns (current path, path in this commit) for each followed file the commit touched. Every
    lookup sees the names as they were after the commit, so that a rename and a new file at the
    old path in the same commit are told apart.
    """
    touched: list[tuple[str, str]] = []
    earlier: dict[str, str] = {}  # the names the touched files had before the commit
    for status, paths in entries:
        owner = names.get(paths[-1])
        if owner is None or status not in "RAMT":
            continue
        touched.append((owner, paths[-1]))
        if status == "R":
            earlier[paths[0]] = owner
        elif status != "A":  # an added file has no earlier name: its history starts here
            earlier[paths[-1]] = owner
    for _, path in touched:
        names.pop(path, None)
    names.update(earlier)
    return touched


def committed_versions(folder: Path, paths: list[str]) -> dict[str, list[Version]]:
    """Each current file's committed versions, newest first, following renames (also staged ones)."""
    names = {path: path for path in paths}
    staged = run_git(folder, "diff", "-z", "--name-status", "-M", "HEAD", "--relative", "--", ".")
    if staged is None:
        return {}  # not a git repository, no commit yet, or no git at all
    follow_names(names, list(name_status_entries(staged.decode("utf-8", "replace").split("\0"))))
    log = run_git(folder, "log", "-z", "--name-status", "-M", f"--format={COMMIT_MARK}%H", "--relative", "--", ".")
    if log is None:
        return {}
    versions: dict[str, list[Version]] = {}
    for record in log.decode("utf-8", "replace").split(COMMIT_MARK):
        fields = record.split("\0")
        commit, entries = fields[0].strip(), list(name_status_entries(fields[1:]))
        for owner, path in follow_names(names, entries):
            versions.setdefault(owner, []).append((commit, path))
    return versions


def read_blobs(folder: Path, versions: list[Version]) -> dict[Version, bytes]:
    """The file contents of many versions at once, through one `git cat-file --batch`."""
    wanted = [version for version in versions if "\n" not in version[1]]
    if not wanted:
        return {}
    request = "".join(f"{commit}:./{path}\n" for commit, path in wanted).encode("utf-8")
    output = run_git(folder, "cat-file", "--batch", stdin=request)
    if output is None:
        return {}
    blobs: dict[Version, bytes] = {}
    position = 0
    for version in wanted:
        end = output.find(b"\n", position)
        if end < 0:
            break
        header = output[position:end].split(b" ")
        position = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "missing" or not a file
        size = int(header[2])
        blobs[version] = output[position : position + size]
        position += size + 1
    return blobs


def slug_of_version(content: bytes, path: str) -> str | None:
    """The slug a version of an article had: its `slug` key, else its file name."""
    fallback = slugify(Path(path).stem)
    try:
        metadata, _, _, _ = parse_article_text(content.decode("utf-8"), path)
    except (ArticleError, UnicodeDecodeError):
        return fallback or None
    slug = metadata.get("slug")
    if isinstance(slug, (str, int)) and not isinstance(slug, bool):
        slug = str(slug).strip()
        return slug if SLUG_PATTERN.match(slug) else None
    return fallback or None


def historical_slugs(folder: Path, paths: list[str]) -> dict[str, list[str]]:
    """Current path (relative to `folder`) -> the slugs its file had in git history, oldest first.

    Empty when `folder` is not in a git repository or git is not installed.
    """
    versions = committed_versions(folder, paths)
    blobs = read_blobs(folder, [version for path_versions in versions.values() for version in path_versions])
    slugs: dict[str, list[str]] = {}
    for path, path_versions in versions.items():
        found: list[str] = []
        for version in reversed(path_versions):
            content = blobs.get(version)
            slug = slug_of_version(content, version[1]) if content is not None else None
            if slug is not None and slug not in found:
                found.append(slug)
        slugs[path] = found
    return slugs
