"""The Markdown other generators accept, turned into kb's: callouts, Liquid and Hugo tags, kramdown attributes.

Runs on an article's body before Python-Markdown. Every admonition syntax (MkDocs `!!! note`,
Docusaurus `:::note`, GitHub `> [!NOTE]`, Liquid `{% callout %}`, Hugo `{{< note >}}`) becomes the
same callout block; image, link and capture tags become Markdown; anything else in template
syntax is left out and named, so no customer ever reads `{% ... %}` or `{{ ... }}`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

SITE_LINK = "kb-site:"  # a link written relative to the old site's root; see `compiler.LinkResolver`
CALLOUT_KINDS = {
    "note": "note",
    "tip": "tip",
    "hint": "hint",
    "info": "info",
    "important": "important",
    "warning": "warning",
    "caution": "caution",
    "attention": "attention",
    "danger": "danger",
    "error": "error",
    "success": "tip",  # Bitwarden's and Bootstrap's green callout is a tip
    "primary": "note",
    "secondary": "note",
    "alert": "warning",
    "warn": "warning",
    "abstract": "note",
    "summary": "note",
    "question": "note",
    "example": "note",
    "quote": "note",
    "failure": "error",
    "bug": "error",
}
LIQUID_CALLOUTS = ("callout", "alert", "note", "tip", "warning", "important", "caution", "danger", "info", "hint")
HUGO_CALLOUTS = LIQUID_CALLOUTS + ("notice", "admonition", "callout", "hint")
# A fence's info string as Hugo, Docusaurus and MkDocs write it (```js title="app.js" {linenos=true}):
# Python-Markdown takes only the language, and without this would not see a fence at all.
FENCE_INFO = re.compile(r"^( {0,3}(?:`{3,}|~{3,}))[ \t]*\{?\.?([\w#+-]*)\b[^\n`]*$", re.MULTILINE)
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})")
RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
COMMENTS = re.compile(
    r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}"  # Liquid
    r"|\{\{<?%?\s*/\*.*?\*/\s*%?>?\}\}"  # Hugo {{/* */}}
    r"|\{/\*.*?\*/\}"  # MDX
    r"|\{::comment\}.*?\{:/comment\}",  # kramdown
    re.DOTALL,
)
HIGHLIGHT = re.compile(
    r"\{%-?\s*highlight\s+(\w+)[^%]*%\}\n?(.*?)\{%-?\s*endhighlight\s*-?%\}"
    r"|\{\{[<%]\s*highlight\s+(\w+)[^>%]*[>%]\}\}\n?(.*?)\{\{[<%]\s*/highlight\s*[>%]\}\}",
    re.DOTALL,
)
CAPTURE = re.compile(r"\{%-?\s*capture\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endcapture\s*-?%\}", re.DOTALL)
CAPTURE_OUTPUT = r"\{{\{{-?\s*{name}\s*(?:\|\s*markdownify\s*)?-?\}}\}}"
LIQUID_BLOCK = re.compile(
    r"\{%-?\s*(" + "|".join(LIQUID_CALLOUTS) + r")\b([^%]*?)-?%\}(.*?)\{%-?\s*end\1\s*-?%\}", re.DOTALL
)
HUGO_BLOCK = re.compile(
    r"\{\{([<%])\s*(" + "|".join(HUGO_CALLOUTS) + r")\b([^}]*?)[>%]\}\}(.*?)\{\{[<%]\s*/\2\s*[>%]\}\}", re.DOTALL
)
LIQUID_IMAGE = re.compile(r"\{%-?\s*(?:image|img|picture)\s+(\S+)\s*([^%]*?)\s*-?%\}")
HUGO_FIGURE = re.compile(r"\{\{[<%]\s*(?:figure|img|image)\s+([^}]*?)\s*/?[>%]\}\}")
LIQUID_LINK = re.compile(r"\{%-?\s*(?:link|post_url)\s+([^\s%]+)\s*-?%\}")
HUGO_REF = re.compile(r"""\{\{[<%]\s*(?:rel)?ref\s+"?([^"\s>%]+)"?\s*[>%]\}\}""")
SITE_ROOT = re.compile(
    r"(?:\{\{-?\s*(?:site\.url|site\.baseurl|\.Site\.BaseURL|site\.github\.url)\s*-?\}\})+/?"
    r"|\{\{-?\s*['\"]([^'\"]*)['\"]\s*\|\s*(?:relative_url|absolute_url|relURL|absURL)\s*-?\}\}"
)
SITE_ALIAS = re.compile(r"(\]\(\s*<?|\bsrc=[\"']|\bhref=[\"'])@site/")
KRAMDOWN_HEADING_ID = re.compile(r"^(#{1,6}\s.*?)\s*\{:?\s*#([\w-]+)[^}\n]*\}\s*$", re.MULTILINE)
KRAMDOWN_TOC = re.compile(r"^[*-] .*\n\{:\s*toc\s*\}\s*$", re.MULTILINE)
KRAMDOWN_ATTRIBUTES = re.compile(r"\{:(?!/)[^}\n]*\}|\{::[^}\n]*/?\}|\{:/[^}\n]*\}")
# Tags that only wrap Markdown in a theme's HTML (a scrolling table, a tab pane): the content stays.
WRAPPERS = re.compile(r"\{%-?\s*(?:end)?(?:table|tabs?|tab_pane|details|collapse|raw)\b[^%]*-?%\}\n?")
TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{[<%].*?[>%]\}\}|\{\{.*?\}\}", re.DOTALL)
TAG_NAME = re.compile(r"^\{[{%][<%]?-?\s*/?([\w.]+)")
MKDOCS_ADMONITION = re.compile(r"^(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+\"(.*)\")?\s*$")
DOCUSAURUS_OPEN = re.compile(r"^(:{3,})\s*(\w+)(?:\[(.*)\]|\s+(.*?))?\s*$")
GITHUB_ALERT = re.compile(r"^>\s*\[!(\w+)\]\s*(.*)$")
MDX_IMPORT = re.compile(
    r"^(?:import\s.+\sfrom\s+['\"].+['\"];?|import\s+['\"].+['\"];?|export\s+(?:const|default)\s.*)$"
)
TAB_ITEM = re.compile(r"^\s*<TabItem\b[^>]*?\blabel=[\"']([^\"']*)[\"'][^>]*>\s*$")
TAB_FRAME = re.compile(r"^\s*</?(?:Tabs|TabItem)\b[^>]*>\s*$")
ATTRIBUTE = re.compile(r"""(\w+)=(?:"([^"]*)"|'([^']*)'|(\S+))""")
LAYOUT_DIV = re.compile(r"^[ \t]*</?div\b[^>\n]*>[ \t]*\n?", re.MULTILINE)
BLOCK_MARKERS = re.compile(r"!!!|\?\?\?|:::|\[!")  # one of them starts each line block `convert_line_blocks` reads
TAB_BAR = re.compile(r"^[ \t]*<ul\b[^>\n]*(?:nav-tabs|tablist)[^>\n]*>.*?</ul>[ \t]*\n?", re.MULTILINE | re.DOTALL)


@dataclass
class Translated:
    """An article body in kb's Markdown, and the template tags that were left out of it."""

    text: str
    left_out: list[str] = field(default_factory=list)  # each tag as written, first occurrence per tag name


def callout(kind: str, title: str | None, body: str, indent: str = "") -> str:
    """The one callout every dialect becomes: Python-Markdown's admonition, its body Markdown.

    At the margin it is a `<div markdown="1">` (so fenced code inside works); inside a list item
    (`indent`), the indented `!!!` form that Python-Markdown nests in the item.
    """
    css = CALLOUT_KINDS.get(kind.lower(), "note")
    heading = css.capitalize() if title is None else title.strip()
    inner = translate_blocks(body.strip("\n"))
    if indent:
        lines = [f'!!! {css} "{heading.replace(chr(34), chr(39))}"'] + [
            f"    {line}" if line.strip() else "" for line in inner.split("\n")
        ]
        return "\n".join(f"{indent}{line}" if line else "" for line in lines) + "\n"
    title_html = f'<p class="admonition-title">{html.escape(heading)}</p>\n' if heading else ""
    return f'\n<div class="admonition {css}" markdown="1">\n{title_html}\n{inner}\n\n</div>\n'


def line_indent(match: re.Match[str]) -> str:
    """The spaces before a tag that starts its line ("" when text precedes it on the line)."""
    start = match.string.rfind("\n", 0, match.start()) + 1
    before = match.string[start : match.start()]
    return before if not before.strip() else ""


def attributes(text: str) -> dict[str, str]:
    """`src="a.png" caption='A'` -> {"src": "a.png", "caption": "A"}; a bare word is `_0`, `_1`, ..."""
    found = {match.group(1): next(g for g in match.groups()[1:] if g is not None) for match in ATTRIBUTE.finditer(text)}
    bare = [word.strip("\"'") for word in ATTRIBUTE.sub(" ", text).split()]
    found.update({f"_{number}": word for number, word in enumerate(bare)})
    return found


def liquid_callout(match: re.Match[str]) -> str:
    name, argument, body = match.group(1), match.group(2).strip(), match.group(3)
    words = argument.split()
    kind = words[0].strip("\"'") if name in ("callout", "alert") and words else name
    title = None if name in ("callout", "alert") or not argument else argument.strip("\"'")
    return callout(kind, title, body, line_indent(match)).lstrip(" ")


def hugo_callout(match: re.Match[str]) -> str:
    name, arguments, body = match.group(2), attributes(match.group(3)), match.group(4)
    if name in ("notice", "hint", "admonition", "callout", "alert"):
        kind = arguments.get("type") or arguments.get("color") or arguments.get("_0") or "note"
    else:
        kind = name
    return callout(kind, arguments.get("title"), body, line_indent(match)).lstrip(" ")


def image(source: str, caption: str) -> str:
    target = source if re.match(r"^[a-z]+:|^/", source) else SITE_LINK + source
    return f"![{caption.strip().replace(']', '')}]({target})"


def hugo_figure(match: re.Match[str]) -> str:
    arguments = attributes(match.group(1))
    source = arguments.get("src") or arguments.get("_0") or ""
    caption = arguments.get("alt") or arguments.get("caption") or arguments.get("title") or ""
    return image(source, caption) if source else ""


def outside_code(text: str, change: Callable[[str], str], in_code: Callable[[str], str] | None = None) -> str:
    """Apply `change` to the text outside fenced code blocks (and `in_code`, if given, to the blocks)."""
    pieces: list[tuple[bool, list[str]]] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = FENCE.match(line)
        if fence is None:
            if match is not None:
                fence = match.group("fence")
                pieces.append((True, [line]))
                continue
            if not pieces or pieces[-1][0]:
                pieces.append((False, []))
            pieces[-1][1].append(line)
        else:
            pieces[-1][1].append(line)
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                fence = None
    joined = ["\n".join(lines) for _, lines in pieces]
    return "\n".join(
        (in_code(piece) if in_code else piece) if is_code else change(piece)
        for (is_code, _), piece in zip(pieces, joined, strict=True)
    )


CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def outside_code_spans(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text around inline code: `{% endfor %}` in backticks is shown as written."""
    spans = [match.group(0) for match in CODE_SPAN.finditer(text)]
    if not spans:
        return change(text)
    marked = CODE_SPAN.sub(lambda match: f"\x00code{spans.index(match.group(0))}\x00", text)
    changed = change(marked)
    for number, span in enumerate(spans):
        changed = changed.replace(f"\x00code{number}\x00", span)
    return changed


def convert_line_blocks(text: str) -> str:
    """MkDocs `!!!`/`???`, Docusaurus `:::` and GitHub `> [!NOTE]` blocks, line by line, into callouts."""
    if not BLOCK_MARKERS.search(text):
        return text  # most articles have none: no need to look at each line
    lines = text.split("\n")
    output: list[str] = []
    index = 0
    fence: str | None = None
    while index < len(lines):
        line = lines[index]
        opening = FENCE.match(line)
        if fence is not None or opening is not None:
            stripped = line.strip()
            if fence is None and opening is not None:
                fence = opening.group("fence")
            elif fence is not None and stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            output.append(line)
            index += 1
            continue
        mkdocs, docusaurus, github = (
            MKDOCS_ADMONITION.match(line),
            DOCUSAURUS_OPEN.match(line),
            GITHUB_ALERT.match(line),
        )
        if mkdocs is not None:
            body, index = indented_block(lines, index + 1)
            output.append(callout(mkdocs.group(1), mkdocs.group(2), body))
        elif docusaurus is not None:
            colons = docusaurus.group(1)
            end = closing_line(lines, index + 1, colons)
            title = docusaurus.group(3) if docusaurus.group(3) is not None else docusaurus.group(4) or None
            output.append(callout(docusaurus.group(2), title, "\n".join(lines[index + 1 : end])))
            index = end + 1
        elif github is not None:
            end = index + 1
            while end < len(lines) and lines[end].startswith(">"):
                end += 1
            quoted = [github.group(2)] + [re.sub(r"^> ?", "", line) for line in lines[index + 1 : end]]
            output.append(callout(github.group(1), None, "\n".join(quoted)))
            index = end
        else:
            output.append(line)
            index += 1
    return "\n".join(output)


def closing_line(lines: list[str], start: int, colons: str) -> int:
    """The index of the line that closes a `:::` block opened with `colons`, fenced code skipped."""
    fence: str | None = None
    for number in range(start, len(lines)):
        stripped = lines[number].strip()
        opening = FENCE.match(lines[number])
        if fence is None and opening is not None:
            fence = opening.group("fence")
        elif fence is not None and stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
        elif fence is None and stripped == colons:
            return number
    return len(lines)


def indented_block(lines: list[str], start: int) -> tuple[str, int]:
    """The lines indented by four spaces (or blank) from `start`, dedented; and the index after them."""
    end = start
    while end < len(lines) and (lines[end].startswith(("    ", "\t")) or not lines[end].strip()):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    body = [line[4:] if line.startswith("    ") else line.lstrip("\t") for line in lines[start:end]]
    return "\n".join(body), end


def translate_blocks(text: str) -> str:
    """Callout blocks of every syntax into callouts (line syntaxes outside fenced code only)."""
    if "{" in text:
        text = LIQUID_BLOCK.sub(liquid_callout, text)
        text = HUGO_BLOCK.sub(hugo_callout, text)
    return convert_line_blocks(text)


def translate(body: str) -> Translated:
    """`body` in kb's Markdown, with the template tags it could not translate left out (and listed)."""
    raw_blocks: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raw_blocks.append(match.group(1))
        return f"\x00raw{len(raw_blocks) - 1}\x00"

    # Every template tag starts with "{": an article without one (most of them) skips those steps.
    templates = "{" in body
    text = RAW.sub(keep_raw, body) if templates else body
    if "```" in text or "~~~" in text:
        text = FENCE_INFO.sub(r"\1\2", text)
    if templates:
        text = HIGHLIGHT.sub(
            lambda match: (
                f"```{match.group(1) or match.group(3)}\n{(match.group(2) or match.group(4)).strip(chr(10))}\n```"
            ),
            text,
        )
        text = COMMENTS.sub("", text)  # Liquid drops a comment wherever it is, code blocks included
        text = WRAPPERS.sub("", text)
        text = outside_code(text, lambda piece: piece, lambda code: SITE_ROOT.sub("/", code))
    captures = {name: content for name, content in CAPTURE.findall(text)} if templates else {}
    text = CAPTURE.sub("", text) if templates else text
    for name, content in captures.items():
        output = re.compile(CAPTURE_OUTPUT.format(name=re.escape(name)))
        # A blank line either side: the captured Markdown is blocks of its own.
        text = output.sub(f"\n\n{content.strip(chr(10))}\n\n".replace("\\", "\\\\"), text)
    if captures:
        # Captures are how Jekyll puts Markdown inside a theme's HTML (tabs, panes): the HTML frame
        # needs the theme's script to work, so the Markdown is kept and the frame dropped.
        text = TAB_BAR.sub("", text)
        text = LAYOUT_DIV.sub("", text)
    left_out: dict[str, str] = {}

    def change(piece: str) -> str:
        if "{" not in piece and "@site/" not in piece:
            return mdx_lines(piece)
        piece = SITE_ALIAS.sub(lambda match: f"{match.group(1)}{SITE_LINK}/", piece)
        piece = SITE_ROOT.sub(lambda match: f"{SITE_LINK}{match.group(1) or '/'}", piece)
        piece = LIQUID_LINK.sub(lambda match: SITE_LINK + match.group(1), piece)
        piece = HUGO_REF.sub(lambda match: SITE_LINK + match.group(1), piece)
        piece = LIQUID_IMAGE.sub(lambda match: image(match.group(1), match.group(2)), piece)
        piece = HUGO_FIGURE.sub(hugo_figure, piece)
        piece = re.sub(r"\{%-?\s*icon\s[^%]*%\}\s?", "", piece)  # decorative icons say nothing in text
        piece = KRAMDOWN_HEADING_ID.sub(r"\1 {#\2}", piece)
        piece = KRAMDOWN_TOC.sub("", piece)
        piece = KRAMDOWN_ATTRIBUTES.sub("", piece)
        piece = mdx_lines(piece)
        piece = TEMPLATE_TAG.sub(lambda match: leave_out(match.group(0), left_out), piece)
        return piece

    text = reindent_lists(outside_code(translate_blocks(text), lambda piece: outside_code_spans(piece, change)))
    for number, raw in enumerate(raw_blocks):
        text = text.replace(f"\x00raw{number}\x00", raw)
    return Translated(text, list(left_out.values()))


LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +)(?=\S)")


def reindent_lists(text: str) -> str:
    """List items' content re-indented from CommonMark's rule to Python-Markdown's.

    CommonMark (Jekyll's kramdown, Hugo, Docusaurus, GitHub) continues a list item with any line
    indented to its text (three spaces under `1. `); Python-Markdown wants four spaces per level
    and otherwise ends the list, turning the next indented line into a code block. Lines already
    indented Python-Markdown's way keep their indentation.
    """
    output: list[str] = []
    stack: list[tuple[int, int, int]] = []  # open items: (text column, four-space column, new column)
    fence: str | None = None
    fence_shift = 0
    previous_blank = True
    since_item_blank = False  # a blank line since the last item began: its text runs over paragraphs
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is not None:
            output.append(shift(line, fence_shift))
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            continue
        if not stripped:
            output.append(line)
            previous_blank = True
            since_item_blank = since_item_blank or bool(stack)
            continue
        item = LIST_ITEM.match(line)
        if indent == 0 and item is None and not previous_blank:
            output.append(line)  # a lazy continuation of the paragraph above
            continue
        while (
            stack and indent < stack[-1][0] and not (indent >= stack[-1][1] - 4 and item is None and not previous_blank)
        ):
            stack.pop()
        if item is not None and not previous_blank and since_item_blank:
            output.append("")  # CommonMark starts an item right after a paragraph; Python-Markdown needs a blank line
        if stack:
            text_column, four_column, new_column = stack[-1]
            # Four spaces past the item's text is CommonMark's nesting; else keep the writer's four-space steps.
            aligned = (indent - text_column) % 4 == 0 or indent < four_column
            base = text_column if aligned else four_column
            new_indent = new_column + max(0, indent - base)
        else:
            new_indent = indent
        new_line = shift(line, new_indent - indent)
        output.append(new_line)
        if item is not None:
            since_item_blank = False
            parent_new = stack[-1][2] if stack else 0
            stack.append((indent + len(item.group(2)) + len(item.group(3)), indent + 4, parent_new + 4))
        opening = FENCE.match(stripped)
        if opening is not None:
            fence, fence_shift = opening.group("fence"), new_indent - indent
        previous_blank = False
    return "\n".join(output)


def shift(line: str, by: int) -> str:
    if by >= 0:
        return " " * by + line
    return line[min(-by, len(line) - len(line.lstrip(" "))) :]


def leave_out(tag: str, left_out: dict[str, str]) -> str:
    name = TAG_NAME.match(tag)
    left_out.setdefault(name.group(1) if name else tag, tag)
    return ""


def mdx_lines(text: str) -> str:
    """Docusaurus' MDX: `import` lines dropped, `<Tabs>` frames dropped, each tab's label kept in bold."""
    if "import" not in text and "export" not in text and "Tab" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if MDX_IMPORT.match(line):
            continue
        label = TAB_ITEM.match(line)
        if label is not None:
            lines.extend([f"**{label.group(1)}**", ""])
        elif not TAB_FRAME.match(line):
            lines.append(line)
    return "\n".join(lines)
