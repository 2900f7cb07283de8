"""Part 6's candidate encodings (`--parts candidates`): the same chunks as part 6, re-rendered
in encodings that spend fewer tokens per line the model may name, each counted by the
end-to-end model's own tokenizer (llama.cpp's POST /tokenize). Nothing here changes what
reviewer sends: the default format is chunks/render.py's, and the candidates are measured
against it (docs/performance.md, part 6, "Candidate encodings below 1.42, and the floor").

Each chunk's user message is read back into its lines (the frame and intent, file and hunk
headers, and every diff line with its kind and number); rendering them with `current` gives
the message back byte for byte, which proves the reading. Every candidate shows the same lines
and texts, so the carried text (bench_encoding.carried_text) is the same for all of them, and
each ratio is user-message tokens / carried-text tokens, as in part 6's table. Beside them:

- the floors of today's per-line numbers with every other format token free: the carried text
  with each named line's number and mark where it stands, and the carried text plus the
  digits' tokens alone;
- what the frame and the file and hunk headers cost alone;
- the runs of added and removed lines: how far a model would have to count when only the
  first line of a run carries its number."""

from __future__ import annotations

import dataclasses
import itertools
import re
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from string import ascii_lowercase
from typing import Any, Protocol

from bench_encoding import carried_line, carried_text, corpus, plan_of, served_tokenizer

from reviewer.chunks.prompt import DIFF_END, user_message
from reviewer.errors import ReviewerError

ADDED, REMOVED, CONTEXT, SHOWN_REMOVED = "+", "-", " ", "x"  # x: a neighbour's removed line
_NUMBERED = re.compile(r"(?P<number>\d+)(?P<mark>[ -])(?P<text>.*)", re.DOTALL)
_LEADING_SPACE = re.compile(r"[ \t]*")
# A line's own text that already ends the way a name at the line's end would (` #12`).
_ENDS_LIKE_A_LABEL = re.compile(r" #[0-9a-z]+\Z")


class Counter(Protocol):
    """What a candidate needs of a tokenizer (bench_encoding.Tokenizer, or a test's fake)."""

    def count(self, text: str) -> int: ...


@dataclasses.dataclass(frozen=True)
class Line:
    """A diff line as the chunk shows it: its kind, the number it may be named by (None for
    context and a neighbour's removed line), its shown text, and its place in its run (the
    lines of one kind in a row within a hunk): `pos` from 0, `replaced` for a removed run that
    an added run follows directly (a replacement, not a pure deletion)."""

    kind: str
    number: int | None
    text: str
    pos: int = 0
    replaced: bool = False


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A line every candidate keeps as it is: "frame" (delimiters, intent, rules), "file"
    (a file header) or "hunk" (a hunk header)."""

    role: str
    text: str


Item = Line | Fixed


def parse(message: str) -> list[Item]:
    """The items of a user message in today's format (chunks/render.py)."""
    items: list[Item] = []
    in_diff = False
    for text in message.split("\n"):
        if text.startswith("=== FILE "):
            in_diff = True
            items.append(Fixed("file", text))
        elif not in_diff or text == DIFF_END:
            items.append(Fixed("frame", text))
        elif text == "@@" or text.startswith("@@ "):
            items.append(Fixed("hunk", text))
        elif m := _NUMBERED.fullmatch(text):
            kind = ADDED if m["mark"] == " " else REMOVED
            items.append(Line(kind, int(m["number"]), m["text"]))
        elif text[:1] in (" ", "-"):
            items.append(Line(CONTEXT if text[0] == " " else SHOWN_REMOVED, None, text[1:]))
        else:
            raise ValueError(f"a line of no known shape: {text[:80]!r}")
    return _with_runs(items)


def _with_runs(items: list[Item]) -> list[Item]:
    """Each nameable line with its place in its run (a run ends at any other item), and each
    removed run marked `replaced` when an added run follows it directly."""
    out: list[Item] = []
    groups = [(key, list(group)) for key, group in itertools.groupby(items, _run_key)]
    for i, (key, block) in enumerate(groups):
        if key is None:
            out += block
            continue
        after = groups[i + 1][0] if i + 1 < len(groups) else None
        replaced = key == REMOVED and after == ADDED
        out += [dataclasses.replace(ln, pos=n, replaced=replaced)
                for n, ln in enumerate(block) if isinstance(ln, Line)]  # fmt: skip
    return out


def _run_key(item: Item) -> str | None:
    return item.kind if isinstance(item, Line) and item.number is not None else None


def runs(items: Sequence[Item]) -> list[int]:
    """The length of every run of added or removed lines."""
    return [ln.pos + 1 for i, ln in enumerate(items) if isinstance(ln, Line)
            and ln.number is not None and not _continues(items, i)]  # fmt: skip


def _continues(items: Sequence[Item], i: int) -> bool:
    nxt = items[i + 1] if i + 1 < len(items) else None
    return isinstance(nxt, Line) and nxt.number is not None and nxt.pos > 0


# --- the candidates ------------------------------------------------------------------------------

Render = Callable[[Line, str], str]  # a nameable line and its name -> the rendered line
LabelSets = Mapping[str, Sequence[str]]  # a label set's name -> its labels, shortest first


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A message in one candidate: its text, the names it shows (numbers or labels, in
    order) and how many diff lines had to be escaped so that no author text reads as a name."""

    text: str
    names: list[str]
    escaped: int


@dataclasses.dataclass(frozen=True)
class Candidate:
    """An encoding: how a nameable line is shown (`named`); with `later` (the markers of an
    added and of a removed line), a run's later lines show no name, only the marker, and
    `every` names one again every that many lines; a neighbour's removed line
    (`shown_removed`); whether a line is named at all (`keeps`: False shows it like a
    neighbour's removed line); `labels`: the file's numbers, or per chunk 1, 2, ... ("local")
    or one of the label sets (`LabelSets`: "letters", "consonants"); `escape`: names stand after
    the indentation, so author text that reads like one after it ("digits", or "letters": a
    label in use) is escaped."""

    name: str
    shape: str
    asks: str
    named: Render
    shown_removed: str = "-"
    later: tuple[str, str] | None = None
    every: int = 0
    keeps: Callable[[Line], bool] = lambda ln: True
    labels: str = "numbers"
    escape: str = ""

    def render(self, items: Sequence[Item], label_sets: LabelSets) -> Rendered:
        out, names = [], []
        local = itertools.count(1)
        letters = label_sets.get(self.labels, ())
        escape = self._escaper(items, letters)
        escaped = 0
        for item in items:
            if isinstance(item, Fixed):
                out.append(item.text)
            elif item.kind == SHOWN_REMOVED or (item.number is not None and not self.keeps(item)):
                out.append(self.shown_removed + item.text)
            elif item.kind == CONTEXT or (self.later and item.pos % (self.every or 1 << 30)):
                text = escape(item.text)
                escaped += text != item.text
                add, removed = self.later or ("", "")
                marker = {CONTEXT: CONTEXT, ADDED: add, REMOVED: removed}[item.kind]
                out.append(marker + text)
            else:
                name = self._name(item, local, letters)
                names.append(name)
                out.append(self.named(item, name))
        return Rendered("\n".join(out), names, escaped)

    def _name(self, line: Line, local: Iterator[int], letters: Sequence[str]) -> str:
        if self.labels == "numbers":
            return str(line.number)
        n = next(local)
        return str(n) if self.labels == "local" else letters[n - 1]

    def _escaper(self, items: Sequence[Item], letters: Sequence[str]) -> Callable[[str], str]:
        if self.escape == "digits":
            return escaping(DIGITS_NAMED)
        if self.escape == "letters":  # any label this chunk uses (all are lower-case letters)
            used = sum(1 for ln in items if isinstance(ln, Line) and ln.number is not None)
            longest = max((len(label) for label in letters[:used]), default=1)
            return escaping(rf"(?:\d+|[a-z]{{1,{longest}}})[ -]")
        return lambda text: text


def _today(line: Line, name: str) -> str:
    return f"{name}{' ' if line.kind == ADDED else '-'}{line.text}"


def _split_indent(text: str) -> tuple[str, str]:
    indent = _LEADING_SPACE.match(text)
    assert indent is not None  # the pattern matches the empty string
    return text[: indent.end()], text[indent.end() :]


def _after_indent(line: Line, name: str) -> str:
    indent, rest = _split_indent(line.text)
    return f"{indent}{name}{' ' if line.kind == ADDED else '-'}{rest}"


# After the indentation a context line's first word could read as a number and its mark
# (`12 x`); with letter labels, any short word could (`if x`, `in y`).
DIGITS_NAMED = r"\d+[ -]"


def escaping(looks_named: str) -> Callable[[str], str]:
    """A line's text, escaped for a place where names follow the indentation: when its first
    non-blank characters read like a name and its mark (`looks_named`), a `\\` goes before
    them (`    12 x` is shown as `    \\12 x`)."""
    pattern = re.compile(looks_named)

    def escape(text: str) -> str:
        indent, rest = _split_indent(text)
        return f"{indent}\\{rest}" if pattern.match(rest) else text

    return escape


def _at_end(line: Line, name: str) -> str:
    return f"{'+' if line.kind == ADDED else '-'}{line.text} #{name}"


RUN_ASKS = ("counts within a run: the n-th line after a numbered one is that number + n "
            "(the run lengths below say how far)")
CANDIDATES = (
    Candidate("current", "`12 x` / ` x` / `7-x` (the default)", "nothing new", _today),
    Candidate("run_first_plus", "run's first line `12 x`, later `+x` (removed: `~x`)",
              RUN_ASKS, _today, later=("+", "~")),
    Candidate("run_first_tab", "run's first line `12 x`, later `\\tx` (removed: `~x`)",
              RUN_ASKS + "; tells a tab-led added line from a space-led context line",
              _today, later=("\t", "~")),
    Candidate("run_first_every_10", "as run_first_plus, a number again every 10th line",
              "counts at most 9 lines", _today, later=("+", "~"), every=10),
    Candidate("run_first_every_5", "as run_first_plus, a number again every 5th line",
              "counts at most 4 lines", _today, later=("+", "~"), every=5),
    Candidate("local_numbers", "`3 x` / `4-x`: 1, 2, ... per chunk, mapped back by reviewer",
              "names labels, not file lines (reviewer maps them back); same answer schema",
              _today, labels="local"),
    Candidate("letters", "`ab x` / `ac-x`: one-token letter labels per chunk",
              "names a label that can read like code (`in x`); answer `line` a string",
              _today, labels="letters"),
    Candidate("after_indent", "`    12 x` / `    7-x`: the number after the indentation",
              "finds the number after the indentation; context starting with a digit or "
              "label is escaped (`\\`)", _after_indent, escape="digits"),
    Candidate("local_after_indent", "`    3 x`: chunk labels 1, 2, ... after the indentation",
              "both of the above", _after_indent, escape="digits", labels="local"),
    Candidate("letters_after_indent", "`    ab x`: one-token letter labels after the indentation",
              "letters and after_indent together", _after_indent, escape="letters",
              labels="letters"),
    Candidate("number_at_end", "`+x #12` / `-x #7`; neighbour's removed `~x`",
              "reads the number after the author's text, which can end in a forged `#12`",
              _at_end, shown_removed="~"),
    Candidate("local_at_end", "`+x #3`: chunk labels at the line's end",
              "both of the above", _at_end, shown_removed="~", labels="local"),
    Candidate("no_old_numbers_on_deletions", "`7-x` only where an added run follows; a pure "
              "deletion's lines `-x`", "cannot name a line of a pure deletion (a deleted "
              "check): it must name no line, or a neighbour", _today,
              keeps=lambda ln: ln.kind == ADDED or ln.replaced),
    Candidate("no_old_numbers_on_replacements", "`7-x` only in a pure deletion; a replaced "
              "run's lines `-x`", "names the added line that replaced a removed one",
              _today, keeps=lambda ln: ln.kind == ADDED or not ln.replaced),
    Candidate("consonants_after_indent", "`    bc x`: as letters_after_indent, labels without "
              "vowels", "as letters_after_indent; a label never reads as a word (`bc`, `xz`)",
              _after_indent, escape="letters", labels="consonants"),
    Candidate("run_first_tab_letters_after_indent", "letters_after_indent on a run's first "
              "line, later `\\tx`", "counting within a run, letters and after_indent",
              _after_indent, escape="letters", later=("\t", "~"),
              labels="letters"),
)


CONSONANTS = "bcdfghjklmnpqrstvwxz"  # no vowel and no `y`: two of them read as no word


def one_token_labels(tok: Counter, alphabet: str = ascii_lowercase) -> list[str]:
    """Labels of one or two of `alphabet`'s letters that are one token both at a line's start
    and after a space (after the indentation)."""
    return [label for size in (1, 2)
            for label in map("".join, itertools.product(alphabet, repeat=size))
            if tok.count(label) == 1 and tok.count(" " + label) == 1]  # fmt: skip


def letter_labels(one_token: Sequence[str], needed: int) -> list[str]:
    """`needed` labels: the one-token ones first, then three lower-case letters and more
    (never one of the first)."""
    first = set(one_token)
    longer = ("".join(p) for size in itertools.count(3)
              for p in itertools.product(ascii_lowercase, repeat=size))  # fmt: skip
    more = (label for label in longer if label not in first)
    return [*one_token, *itertools.islice(more, max(0, needed - len(one_token)))][:needed]


def numbers_in_place(items: Sequence[Item]) -> str:
    """The carried text with today's number and mark before each named line and nothing else
    (no frame, no headers, no context prefix): what the numbers cost where they stand, with
    every other format token free."""
    out = []
    for item in items:
        if isinstance(item, Fixed):
            text = carried_line(item.text)
            if text is not None:
                out.append(text)
        elif item.number is None:
            out.append(item.text)
        else:
            out.append(_today(item, str(item.number)))
    return "\n".join(out)


# --- measuring -----------------------------------------------------------------------------------


def chunk_counts(messages: Sequence[str], tok: Counter, label_sets: LabelSets) -> dict[str, Any]:
    """Token counts of the chunks' messages in every candidate, and what the floor needs."""
    names = [c.name for c in CANDIDATES]
    counts = dict.fromkeys([*names, "carried", "digits", "in_place", "fixed"], 0)
    shown, escaped = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    lengths: list[int] = []
    ends_like_a_name = 0
    for message in messages:
        items = parse(message)
        for candidate in CANDIDATES:
            rendered = candidate.render(items, label_sets)
            if candidate.name == "current" and rendered.text != message:
                raise AssertionError("the message did not read back byte for byte")
            counts[candidate.name] += tok.count(rendered.text)
            shown[candidate.name] += len(rendered.names)
            escaped[candidate.name] += rendered.escaped
        counts["carried"] += tok.count(carried_text(message))
        counts["in_place"] += tok.count(numbers_in_place(items))
        # The lines that carry no text (delimiters, file headers, `@@`), each with its newline.
        fixed = [ln.text for ln in items if isinstance(ln, Fixed) and carried_line(ln.text) is None]
        counts["fixed"] += tok.count("\n".join(["", *fixed]))
        numbers = [str(ln.number) for ln in items if isinstance(ln, Line) and ln.number]
        # The digits as the tokenizer counts them, apart from any text: the floor's cost.
        counts["digits"] += tok.count("\n".join(numbers)) - max(0, len(numbers) - 1)
        lengths += runs(items)
        ends_like_a_name += sum(1 for ln in items if isinstance(ln, Line)
                                and _ENDS_LIKE_A_LABEL.search(ln.text))  # fmt: skip
    return {"counts": counts, "names": shown, "escaped": escaped, "runs": lengths,
            "ends_like_a_name": ends_like_a_name}  # fmt: skip


def entry_row(label: str, measured: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One corpus entry's (or all entries') ratios: each candidate's, and the floor's."""
    total = {k: sum(m["counts"][k] for m in measured) for k in measured[0]["counts"]}
    lengths = [n for m in measured for n in m["runs"]]
    carried = total["carried"]
    return {
        "label": label,
        "carried_tokens": carried,
        "tokens": {c.name: total[c.name] for c in CANDIDATES},
        "ratios": {c.name: round(total[c.name] / carried, 3) for c in CANDIDATES},
        "names": {c.name: sum(m["names"][c.name] for m in measured) for c in CANDIDATES},
        "digit_tokens": total["digits"],
        "floor_ratio": round((carried + total["digits"]) / carried, 3),
        "numbers_in_place_ratio": round(total["in_place"] / carried, 3),
        "fixed_tokens": total["fixed"],
        "fixed_ratio": round((carried + total["fixed"]) / carried, 3),
        "escaped": {c.name: sum(m["escaped"][c.name] for m in measured) for c in CANDIDATES},
        "ends_like_a_name": sum(m["ends_like_a_name"] for m in measured),
        "runs": run_stats(lengths),
    }


def run_stats(lengths: Sequence[int]) -> dict[str, Any]:
    """How long the runs are, and how far a line sits from its run's first line."""
    if not lengths:
        return {"runs": 0}
    lines = sum(lengths)

    def share(limit: int) -> float:  # lines at most `limit` lines below their run's first
        return round(100 * sum(min(n, limit + 1) for n in lengths) / lines, 1)

    return {
        "runs": len(lengths),
        "lines": lines,
        "median": statistics.median(lengths),
        "p90": sorted(lengths)[int(0.9 * (len(lengths) - 1))],
        "max": max(lengths),
        "single_line_runs_pct": round(100 * lengths.count(1) / len(lengths), 1),
        "lines_counting_0_pct": share(0),
        "lines_counting_le_4_pct": share(4),
        "lines_counting_le_9_pct": share(9),
        "lines_counting_le_29_pct": share(29),
    }


def messages_of(repo: Path, base: str, head: str) -> list[str]:
    plan = plan_of(repo, base, head)
    return [user_message(chunk, plan.context) for chunk in plan.chunks]


def measure(tok: Counter, entries: Iterator[tuple[str, list[tuple[Path, str, str]]]],
            missing: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    """Every entry's row, then "all"."""
    one_token = {"letters": one_token_labels(tok), "consonants": one_token_labels(tok, CONSONANTS)}
    rows, every = [], []
    for label, ranges in entries:
        measured = []
        for repo, base, head in ranges:
            try:
                messages = messages_of(repo, base, head)
            except ReviewerError as e:  # a root commit has no parent
                missing[f"candidates:{label}:{head[:10]}"] = f"{type(e).__name__}: {e}"
                continue
            needed = max((m.count("\n") + 1 for m in messages), default=0)
            label_sets = {k: letter_labels(v, needed) for k, v in one_token.items()}
            measured.append(chunk_counts(messages, tok, label_sets))
        if measured:
            rows.append(entry_row(label, measured))
            every += measured
            print(f"  candidates: {label}: " + ", ".join(
                f"{k} {v}" for k, v in rows[-1]["ratios"].items()), flush=True)  # fmt: skip
    if every:
        rows.append(entry_row("all", every))
    return {"rows": rows, "one_token_labels": {k: len(v) for k, v in one_token.items()},
            "candidates": [{"name": c.name, "shape": c.shape, "asks": c.asks}
                           for c in CANDIDATES]}  # fmt: skip


def run_part(root: Path, cache: Path, quick: bool, url: str | None = None) -> dict[str, Any]:
    """Part 6's corpus in every candidate. Starts the llama.cpp server unless `url` names one
    already serving the end-to-end model."""
    root.mkdir(parents=True, exist_ok=True)
    missing: dict[str, str] = {}
    with served_tokenizer(url) as tok:
        part = measure(tok, corpus(root, cache, quick, missing), missing)
    return {**part, "missing": missing}


def table(part: dict[str, Any]) -> str:
    """The candidates' ratios per corpus entry with the floors, the runs' lengths per entry,
    and what each candidate asks of the model."""
    rows = part["rows"]
    if not rows:
        return "No corpus entry was measured.\n"
    from report import md_table

    short = [r["label"].split(" ")[0].rstrip(":") for r in rows]
    body = [[f"{c['name']}: {c['shape']}", *[r["ratios"][c["name"]] for r in rows]]
            for c in part["candidates"]]  # fmt: skip
    body.append(["floor: the carried text with today's numbers in place, nothing else",
                 *[r["numbers_in_place_ratio"] for r in rows]])  # fmt: skip
    body.append(["floor: the carried text + today's digits' tokens",
                 *[r["floor_ratio"] for r in rows]])  # fmt: skip
    body.append(["the carried text + the frame's and the file and hunk headers' tokens",
                 *[r["fixed_ratio"] for r in rows]])  # fmt: skip
    every = rows[-1]
    notes = [
        f"Carried text: {every['carried_tokens']:,} tokens; today's digits: "
        f"{every['digit_tokens']:,} tokens on {every['names']['current']:,} numbered lines; "
        f"the frame and the file and hunk headers alone: {every['fixed_tokens']:,} tokens "
        f"({100 * every['fixed_tokens'] / every['carried_tokens']:.1f}% of the carried text).",
        "Diff lines escaped where names follow the indentation: " + (", ".join(
            f"{k} {v:,}" for k, v in every["escaped"].items() if v) or "none") + "; lines "
        f"whose own text ends the way a name at the line's end would (` #12`): "
        f"{every['ends_like_a_name']:,}. One-token labels of one or two letters: "
        + ", ".join(f"{k} {v}" for k, v in part["one_token_labels"].items()) + ".",
    ]  # fmt: skip
    runs_head = ["corpus", "runs", "lines in runs", "median", "90th pct", "longest",
                 "one-line runs (%)", "lines counting 0 (%)", "at most 4 (%)",
                 "at most 9 (%)", "at most 29 (%)"]  # fmt: skip
    runs_body = [[s, *[r["runs"].get(k) for k in ("runs", "lines")], *[
        _one_decimal(r["runs"].get(k)) for k in ("median", "p90", "max",
        "single_line_runs_pct", "lines_counting_0_pct", "lines_counting_le_4_pct",
        "lines_counting_le_9_pct", "lines_counting_le_29_pct")]]
        for s, r in zip(short, rows, strict=True)]  # fmt: skip
    asks = [f"- {c['name']}: {c['asks']}" for c in part["candidates"]]
    return "\n".join([
        md_table(["encoding", *short], body), *notes, "",
        "Runs of added or removed lines, and how far a model would count from a run's first "
        "line:", "", md_table(runs_head, runs_body), "What each asks of the model:", "", *asks,
    ]) + "\n"  # fmt: skip


def _one_decimal(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}" if value == int(value) else f"{value:.1f}"
