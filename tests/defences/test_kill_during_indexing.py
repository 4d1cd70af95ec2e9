"""`kb index` killed with SIGKILL at random points: the live index stays whole and the next build just works."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kb.config import Settings
from kb.errors import KbError
from kb.help_center import HelpCenter
from kb.index.format import BUILDS_FOLDER, CURRENT_LINK, MANIFEST_FILE, load_published_index
from kb.search.service import QueryVectorCache, SearchService
from tests.conftest import FakeEmbedder
from tests.defences.processes import generate_help_center, run_kb, start_kb

pytestmark = pytest.mark.defence

ARTICLES = 200
KILLS = 12
KEEP_BUILDS = 2
EDITED = Path("topic-05/article-0005.md")
QUERIES = ["refund for a recurring subscription", "bank transfer currency", "mileage expense report", "Introduction 42"]

Answers = list[list[tuple[str, str, float]]]


def answers(index_dir: Path, extra_query: str) -> Answers:
    """What search answers from the live build, read from disk afresh as a starting server would."""
    embedder = FakeEmbedder()
    index = load_published_index(index_dir, embedder.model_name, embedder.model_fingerprint)
    settings = Settings(index=index_dir)
    center = HelpCenter(index, SearchService(index, embedder, settings, QueryVectorCache(embedder)))
    return [
        [(result.slug, result.url, round(result.score, 5)) for result in center.search(query, 5).results]
        for query in [*QUERIES, extra_query]
    ]


def live_build(index_dir: Path) -> str:
    return (index_dir / CURRENT_LINK).resolve().name


def build_folders(index_dir: Path) -> tuple[list[str], list[str]]:
    """(complete builds, incomplete build folders) in the builds folder, oldest first."""
    folders = sorted(path for path in (index_dir / BUILDS_FOLDER).iterdir() if path.is_dir())
    complete = [path.name for path in folders if (path / MANIFEST_FILE).is_file()]
    return complete, [path.name for path in folders if path.name not in complete]


@dataclass
class KillRound:
    aim: str  # "anywhere": a random point of the whole build; "writing": of its write phase
    delay: float
    finished_first: bool = False  # the build ended before the signal: not counted as a kill
    left_partial_build: bool = False
    switched_before_the_kill: bool = False
    same_answers: bool = False
    next_build_exit: int | None = None
    next_build_output: str = ""
    next_build_shows_the_edit: bool = False
    complete_builds_after: list[str] = field(default_factory=list)
    incomplete_builds_after: list[str] = field(default_factory=list)


@dataclass
class Campaign:
    seed: int
    build_seconds: float
    write_seconds: float
    rounds: list[KillRound]

    @property
    def kills(self) -> list[KillRound]:
        return [round_ for round_ in self.rounds if not round_.finished_first]


def new_build_started(index_dir: Path, known: set[str], process: subprocess.Popen[str]) -> Path | None:
    """Wait until the build creates its folder (returned), or the process ends first (None)."""
    while process.poll() is None:
        if new := {path.name for path in (index_dir / BUILDS_FOLDER).iterdir()} - known:
            return index_dir / BUILDS_FOLDER / new.pop()
        time.sleep(0.002)
    return None


def write_phase_seconds(index_dir: Path, known: set[str], process: subprocess.Popen[str]) -> float:
    """How long the build's folder stays under its temporary name: the window a kill leaves a partial build."""
    folder = new_build_started(index_dir, known, process)
    assert folder is not None, "the build ended without writing a folder"
    started = time.monotonic()
    while folder.exists() and process.poll() is None:
        time.sleep(0.002)
    return time.monotonic() - started


def revision_word(revision: int) -> str:
    """A word no article has, in letters only (the word splitter would part a number from it)."""
    return "wombat" + "".join(chr(ord("a") + int(digit)) for digit in f"{revision:02d}")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    """Edit an article, start `kb index`, kill it after a random delay, check the index, build again."""
    root = tmp_path_factory.mktemp("kills")
    articles, index = root / "articles", root / "index"
    generate_help_center(articles, ARTICLES)
    locations = ("--articles", str(articles), "--index", str(index))
    settings = {"KB_KEEP_BUILDS": str(KEEP_BUILDS)}
    assert run_kb("index", *locations, **settings).returncode == 0
    original = (articles / EDITED).read_text(encoding="utf-8")

    def edit(revision: int) -> str:
        word = revision_word(revision)
        (articles / EDITED).write_text(f"{original}\n## Revision\n\nThe {word} notes.\n", encoding="utf-8")
        return word

    edit(0)
    known = {path.name for path in (index / BUILDS_FOLDER).iterdir()}
    started = time.monotonic()
    timed = start_kb("index", *locations, **settings)
    write_seconds = write_phase_seconds(index, known, timed)
    assert timed.wait(timeout=120) == 0
    build_seconds = time.monotonic() - started
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    rounds: list[KillRound] = []
    while sum(not round_.finished_first for round_ in rounds) < KILLS and len(rounds) < 2 * KILLS:
        word = edit(len(rounds) + 1)
        before, before_answers = live_build(index), answers(index, word)
        known = {path.name for path in (index / BUILDS_FOLDER).iterdir()}
        process = start_kb("index", *locations, **settings)
        if len(rounds) % 2:
            # The write phase is a fraction of a second: aim inside it, measured afresh each round.
            round_ = KillRound("writing", rng.uniform(0, write_seconds))
            new_build_started(index, known, process)
        else:
            round_ = KillRound("anywhere", rng.uniform(0, build_seconds))
        started = time.monotonic()
        try:
            process.wait(timeout=round_.delay)
            round_.finished_first = True  # the machine is faster now than when measured
            if round_.aim == "anywhere":
                build_seconds = time.monotonic() - started
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        rounds.append(round_)
        if round_.finished_first:
            continue
        round_.left_partial_build = bool(build_folders(index)[1])
        round_.switched_before_the_kill = live_build(index) != before
        try:
            after_kill: Answers | str = answers(index, word)
        except KbError as error:  # the live index no longer loads
            after_kill = str(error)
        known = {path.name for path in (index / BUILDS_FOLDER).iterdir()}
        started = time.monotonic()
        rebuild = start_kb("index", *locations, **settings)
        write_seconds = write_phase_seconds(index, known, rebuild)
        output = rebuild.communicate(timeout=120)
        # The next delays follow the machine's load as it changes from round to round.
        build_seconds = time.monotonic() - started
        round_.next_build_exit, round_.next_build_output = rebuild.returncode, "".join(output)
        after_rebuild = answers(index, word)
        round_.same_answers = after_kill == (after_rebuild if round_.switched_before_the_kill else before_answers)
        round_.next_build_shows_the_edit = word in load_published_index(index).articles[EDITED.stem].html
        round_.complete_builds_after, round_.incomplete_builds_after = build_folders(index)
    return Campaign(seed, build_seconds, write_seconds, rounds)


def test_the_live_index_survives_every_kill(campaign: Campaign, figure) -> None:  # type: ignore[no-untyped-def]
    kills = campaign.kills
    intact = sum(round_.same_answers for round_ in kills)
    figure(
        f"kill -9 during kb index ({ARTICLES} articles, a build of {campaign.build_seconds:.1f} s writing for "
        f"{campaign.write_seconds:.1f} s, seed {campaign.seed}): "
        f"{intact}/{len(kills)} kills left the live index loading with the same answers "
        f"({sum(round_.left_partial_build for round_ in kills)} in the middle of writing a build, "
        f"{sum(round_.switched_before_the_kill for round_ in kills)} after the switch)"
    )
    assert len(kills) >= 10, f"only {len(kills)} builds were still running when killed (seed {campaign.seed})"
    assert any(round_.left_partial_build for round_ in kills), "no kill landed while a build was being written"
    broken = [(round_.aim, round(round_.delay, 3)) for round_ in kills if not round_.same_answers]
    assert broken == [], f"kills (aim, delay in s) that broke the live index, seed {campaign.seed}"


def test_the_next_build_completes_without_cleanup(campaign: Campaign, figure) -> None:  # type: ignore[no-untyped-def]
    kills = campaign.kills
    completed = [round_ for round_ in kills if round_.next_build_exit == 0 and round_.next_build_shows_the_edit]
    figure(f"kill -9 during kb index: {len(completed)}/{len(kills)} next builds completed and published the edit")
    for round_ in kills:
        assert round_.next_build_exit == 0, round_.next_build_output
        assert f"Indexed {ARTICLES} articles" in round_.next_build_output
        assert round_.next_build_shows_the_edit, round_


def test_interrupted_builds_take_no_keep_builds_slot(campaign: Campaign) -> None:
    for round_ in campaign.kills:
        assert round_.incomplete_builds_after == [], round_
        assert len(round_.complete_builds_after) == KEEP_BUILDS + 1, round_
