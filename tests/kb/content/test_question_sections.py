"""Questions that name their section: the front-matter forms, their located errors, and their chunks."""

from __future__ import annotations

from pathlib import Path

from kb.config import Settings
from kb.content.articles import read_article
from kb.content.chunking import ChunkKind
from kb.content.compiler import compile_help_center

BODY = """Intro.

## Request a reset link

Click Forgot password.

## The reset link doesn't work

Links expire after an hour.
"""


def write(root: Path, front_matter: str) -> None:
    (root / "reset.md").write_text(f"---\ntitle: Reset your password\n{front_matter}---\n{BODY}")


def question_anchors(root: Path) -> list[tuple[str, str, str]]:
    compiled = compile_help_center(root, Settings(articles=root))
    assert [str(problem) for problem in compiled.problems] == []
    return [
        (chunk.text, chunk.anchor, chunk.section)
        for chunk in compiled.articles[0].chunks
        if chunk.kind == ChunkKind.QUESTION
    ]


def test_a_question_names_its_section_by_anchor_heading_or_flow_mapping(tmp_path: Path) -> None:
    write(
        tmp_path,
        "questions:\n"
        "  - I forgot my password\n"
        "  - question: the link says expired\n"
        "    section: the-reset-link-doesnt-work\n"
        "  - {question: where do I ask for a link, section: Request a reset link}\n"
        "  - {question: send me a new link, section: '#request-a-reset-link'}\n",
    )
    assert question_anchors(tmp_path) == [
        ("I forgot my password", "", ""),
        ("the link says expired", "the-reset-link-doesnt-work", "The reset link doesn't work"),
        ("where do I ask for a link", "request-a-reset-link", "Request a reset link"),
        ("send me a new link", "request-a-reset-link", "Request a reset link"),
    ]


def test_a_section_the_article_lacks_is_an_error_on_the_questions_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "questions:\n  - I forgot my password\n  - {question: link expired, section: expired-links}\n",
    )
    compiled = compile_help_center(tmp_path, Settings(articles=tmp_path))
    assert [str(problem) for problem in compiled.problems] == [
        "reset.md:5: error: question 'link expired' names section 'expired-links', which this article does not "
        "have (its sections: request-a-reset-link, the-reset-link-doesnt-work)"
    ]


def test_malformed_question_entries_are_errors_on_their_lines() -> None:
    text = (
        "---\ntitle: T\nquestions:\n"
        "  - fine\n"
        "  - {section: request-a-reset-link}\n"
        "  - {question: q, section: [a, b]}\n"
        "  - {question: q, anchor: a}\n"
        "  - [nested, list]\n"
        "---\nBody.\n"
    )
    article, problems = read_article(text, "t.md")
    assert article is None
    assert [str(problem) for problem in problems] == [
        "t.md:5: error: a question written as a mapping needs 'question': the customer's words",
        "t.md:6: error: 'section' must name a section of this article: its anchor or its heading",
        "t.md:7: error: unknown key 'anchor' in a question (known keys: question, section)",
        "t.md:8: error: 'questions' must be a list of text or of question/section mappings; one is a list",
    ]


def test_plain_questions_still_read_as_before() -> None:
    article, problems = read_article("---\ntitle: T\nquestions: how do I pay\n---\nBody.\n", "t.md")
    assert problems == []
    assert article is not None
    assert article.questions == ["how do I pay"]
    assert article.question_sections == {}
