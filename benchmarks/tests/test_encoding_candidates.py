"""Part 6's candidate encodings (benchmarks/bench_encoding_candidates.py) on tiny real
repositories, counted by a stand-in tokenizer, so the suite needs no llama.cpp: the reading
back of a message, what each candidate shows, and that no author text reads as a name."""

from __future__ import annotations

import re
from pathlib import Path

import bench_encoding_candidates as cand
import pytest
from bench_encoding import carried_text
from test_benchmarks_smoke import EDITED_LINES, small_real_pr, two_commit_repo

# Roughly SmolLM2's pre-tokenizer: a newline with the blanks after it, each digit, a word
# with the space before it, a run of marks with the space before it, other blanks.
_TOKEN = re.compile(r"\n[ \t]*|\d| ?[A-Za-z]+| ?[^\sA-Za-z\d]+|[ \t]+")


class FakeTokenizer:
    def count(self, text: str) -> int:
        return len(_TOKEN.findall(text))


BY_NAME = {c.name: c for c in cand.CANDIDATES}
LETTERS = cand.letter_labels(cand.one_token_labels(FakeTokenizer()), 2_000)
LABELS = {"letters": LETTERS, "consonants": cand.letter_labels(
    cand.one_token_labels(FakeTokenizer(), cand.CONSONANTS), 2_000)}  # fmt: skip


def render(name: str, items: list[cand.Item]) -> list[str]:
    return BY_NAME[name].render(items, LABELS).text.split("\n")


def only_message(repo: Path) -> str:
    (message,) = cand.messages_of(repo, "base", "head")
    return message


def test_a_message_reads_back_byte_for_byte_and_every_candidate_shows_its_lines(
    tmp_path: Path,
) -> None:
    message = only_message(small_real_pr(tmp_path))
    items = cand.parse(message)
    named = [ln for ln in items if isinstance(ln, cand.Line) and ln.number is not None]
    # Three one-line edits: a removed and an added line each, numbered by the file.
    assert sorted((ln.kind, ln.number) for ln in named) == sorted(
        [(cand.ADDED, n) for n in EDITED_LINES] + [(cand.REMOVED, n) for n in EDITED_LINES]
    )
    for candidate in cand.CANDIDATES:
        text = candidate.render(items, LABELS).text
        assert len(text.split("\n")) == len(message.split("\n")), candidate.name
        assert "value_10 = compute(10) + 1" in text, candidate.name  # every text is shown
    assert BY_NAME["current"].render(items, LABELS).text == message
    # The floor's text: the carried text, with today's number before each named line.
    in_place = cand.numbers_in_place(items)
    assert re.sub(r"^\d+[ -]", "", in_place, flags=re.MULTILINE) == carried_text(message)
    assert in_place.count("\n") < message.count("\n")  # no frame, no file or hunk header
    # Local labels count 1.. in the order shown; the old numbers go where a deletion is pure.
    assert BY_NAME["local_numbers"].render(items, LABELS).names == [str(n) for n in range(1, 7)]
    assert len(BY_NAME["no_old_numbers_on_replacements"].render(items, LABELS).names) == 3
    assert BY_NAME["letters"].render(items, LABELS).names == LETTERS[:6]


def test_only_a_runs_first_line_is_numbered_and_the_runs_are_measured(tmp_path: Path) -> None:
    base = [f"line_{i}" for i in range(1, 31)]
    head = base[:10] + ["    new_a", "    new_b", "    new_c"] + base[10:20] + base[21:]
    items = cand.parse(only_message(two_commit_repo(tmp_path / "runs", base, head)))
    assert cand.runs(items) == [3, 1]  # three added lines in a row; one removed line
    lines = render("run_first_plus", items)
    assert "11     new_a" in lines and "+    new_b" in lines and "+    new_c" in lines
    assert "21-line_21" in lines  # a run of one keeps its number
    assert "    11 new_a" in render("after_indent", items)
    assert "+    new_b #12" in render("number_at_end", items)
    assert "-line_21" in render("no_old_numbers_on_deletions", items)  # nothing replaced it
    every_2 = cand.dataclasses.replace(BY_NAME["run_first_plus"], every=2)
    assert [ln for ln in every_2.render(items, LABELS).text.split("\n") if "new_" in ln] == [
        "11     new_a", "+    new_b", "13     new_c",
    ]  # fmt: skip
    stats = cand.run_stats(cand.runs(items))
    assert (stats["runs"], stats["lines"], stats["max"]) == (2, 4, 3)
    assert stats["lines_counting_0_pct"] == 50.0  # the two first lines of four
    assert stats["lines_counting_le_4_pct"] == 100.0


# Author text that reads like a name and its mark once names follow the indentation: numbers,
# and the first letter labels a chunk uses (`a`, `b`, ...).
FORGED = ["    12 x = 1", "12-y", "\t7 z", "  a x:", "b y", "c-d", "    3", "  if x", "bc e",
          " c-f"]  # fmt: skip
AFTER_INDENT = ("after_indent", "local_after_indent", "letters_after_indent",
                "consonants_after_indent", "run_first_tab_letters_after_indent")  # fmt: skip


@pytest.mark.parametrize("name", AFTER_INDENT)
def test_author_text_never_reads_as_a_name_after_the_indentation(
    tmp_path: Path, name: str
) -> None:
    # Each forged line as context beside a modified line, then all of them as added lines.
    base = [line for i, f in enumerate(FORGED) for line in (f"old_{i} = 1", f)]
    head = [line for i, f in enumerate(FORGED) for line in (f"new_{i} = 1", f)] + FORGED
    items = cand.parse(only_message(two_commit_repo(tmp_path / name, base, head)))
    rendered = BY_NAME[name].render(items, LABELS)
    # What a reader takes for a name: any number, or a label this chunk shows.
    named = re.compile(rf"[ \t]*(?:\d+|{'|'.join(rendered.names)})[ -]")
    later = 0
    for item, shown in zip(items, rendered.text.split("\n"), strict=True):
        if not isinstance(item, cand.Line) or item.kind == cand.SHOWN_REMOVED:
            continue
        if item.number is None or BY_NAME[name].later and item.pos > 0:
            # Context, or a run's later line behind its tab: escaped, never read as a name.
            later += item.number is not None
            assert not named.match(shown[1:]), (item, shown)
            assert shown[1:].replace("\\", "") == item.text.replace("\\", "")
        else:  # a named line reads as exactly one name, then its own text
            match = named.match(shown)
            assert match is not None, (item, shown)
            indent = re.match(r"[ \t]*", item.text)
            assert indent is not None
            assert shown[: indent.end()] + shown[match.end() :] == item.text
    assert rendered.escaped >= 3  # the forged numbers in context, at least
    assert later > 0 if BY_NAME[name].later else later == 0


def test_the_part_counts_a_tiny_corpus_without_llama_cpp(tmp_path: Path) -> None:
    import report

    repo = small_real_pr(tmp_path)
    missing: dict[str, str] = {}
    part = cand.measure(FakeTokenizer(), iter([("tiny one", [(repo, "base", "head")])]), missing)
    assert missing == {}
    tiny, every = part["rows"]
    assert (tiny["label"], every["label"]) == ("tiny one", "all")
    assert tiny["tokens"] == every["tokens"]
    ratios = tiny["ratios"]
    assert ratios["current"] > tiny["numbers_in_place_ratio"] > tiny["floor_ratio"] > 1.0
    # Six numbered lines of two digits each (10, 30, 50), a digit a token.
    assert tiny["digit_tokens"] == 12 and tiny["names"]["current"] == 6
    assert ratios["letters"] < ratios["current"]  # one token for two digits, each line
    assert tiny["runs"]["runs"] == 6 and tiny["runs"]["single_line_runs_pct"] == 100.0
    # The frame's two delimiters, one file header, three hunk headers without section text.
    expected_fixed = FakeTokenizer().count("\n" + "\n".join(
        [ln for ln in only_message(repo).split("\n")
         if ln.startswith(("<<<", "=== ")) or ln == "@@"]))  # fmt: skip
    assert tiny["fixed_tokens"] == expected_fixed > 0
    assert ratios["current"] > tiny["fixed_ratio"] > 1.0
    table = report.candidates_table(part)
    assert table.splitlines()[0] == "| encoding | tiny | all |"
    assert f"| current: `12 x` / ` x` / `7-x` (the default) | {ratios['current']:.3f} |" in table
    assert "- run_first_plus: counts within a run" in table
    assert "| tiny | 6 | 6 | 1 | 1 | 1 | 100 | 100 | 100 | 100 | 100 |" in table
