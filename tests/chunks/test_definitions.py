"""Enclosing definitions in hunk headers, per language, on real repositories: every part of a
method's split change names the method and its container, where git's own section text names
only the nearest unindented line (or, for a later part, the hunk's start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.chunks.prompt import prompt_overhead_tokens
from tests.chunks.definitions_helpers import plan_of, sections, two_commits

# path, lines before the body, a body line (by index), lines after it, the expected section
Case = tuple[str, list[str], str, list[str], str]
CASES: dict[str, Case] = {
    "python": ("store.py", ["import os", "", "class Store:", "    def save(self, item):"],
               "        total_{i} = item + {i}", ["", "def helper():", "    return 1"],
               "class Store: \u203a def save(self, item):"),
    "typescript": ("store.ts", ["export class Store {", "  public save(item: number): void {"],
                   "    const total{i} = item + {i};", ["  }", "}"],
                   "export class Store { \u203a public save(item: number): void {"),
    "javascript": ("store.js", ["class Store {", "  save(item) {"],
                   "    total{i} += item + {i};", ["  }", "}"], "class Store { \u203a save(item) {"),
    "go": ("store.go", ["package store", "", "func (s *Store) Save(item int) int {"],
           "\ttotal{i} := item + {i}", ["\treturn 0", "}"], "func (s *Store) Save(item int) int {"),
    "rust": ("store.rs", ["impl Store {", "    pub fn save(&mut self, item: i32) -> i32 {"],
             "        let total{i} = item + {i};", ["    }", "}"],
             "impl Store { \u203a pub fn save(&mut self, item: i32) -> i32 {"),
    "java": ("Store.java", ["public class Store {", "    public void save(int item) {"],
             "        int total{i} = item + {i};", ["    }", "}"],
             "public class Store { \u203a public void save(int item) {"),
    "kotlin": ("Store.kt", ["class Store {", "    fun save(item: Int) {"],
               "        val total{i} = item + {i}", ["    }", "}"],
               "class Store { \u203a fun save(item: Int) {"),
    "c": ("store.c", ["#include <stdio.h>", "", "int save(struct store *s, int item)", "{"],
          "    int total{i} = item + {i};", ["}"], "int save(struct store *s, int item)"),
    "cpp": ("store.cpp", ["class Store {", "  public:", "    void save(int item) {"],
            "        int total{i} = item + {i};", ["    }", "};"],
            "class Store { \u203a void save(int item) {"),
    "csharp": ("Store.cs", ["public class Store", "{", "    public void Save(int item)", "    {"],
               "        int total{i} = item + {i};", ["    }", "}"],
               "public class Store \u203a public void Save(int item)"),
    "ruby": ("store.rb", ["class Store", "  def save(item)"], "    total_{i} = item + {i}",
             ["  end", "end"], "class Store \u203a def save(item)"),
    "php": ("Store.php", ["<?php", "class Store {", "    public function save($item) {"],
            "        $total_{i} = $item + {i};", ["    }", "}"],
            "class Store { \u203a public function save($item) {"),
    "shell": ("deploy.sh", ["#!/bin/sh", "deploy() {"], "  total_{i}=$((item + {i}))",
              ["}"], "deploy() {"),
}  # fmt: skip
BODY = 60
# A budget of a few hundred tokens for the diff: the 40 changed lines make several parts.
SMALL_CTX = 256 + prompt_overhead_tokens() + 420


def _texts(case: Case) -> tuple[str, str]:
    _, before, body, after, _ = case
    old = [body.format(i=i) for i in range(BODY)]
    new = old[:20] + [body.format(i=i + 1000) for i in range(20, BODY)]
    return ("\n".join([*before, *old, *after]) + "\n", "\n".join([*before, *new, *after]) + "\n")


@pytest.mark.parametrize("lang", sorted(CASES))
def test_each_part_of_a_split_method_change_names_the_method_and_its_container(
    tmp_path: Path, lang: str
) -> None:
    path, *_, expected = CASES[lang]
    base, head = _texts(CASES[lang])
    two_commits(tmp_path, {path: base}, {path: head})
    plan = plan_of(tmp_path, num_ctx=SMALL_CTX)
    shown = sections(plan)
    assert len(shown) >= 3, shown  # the change was split into parts
    assert shown == [expected] * len(shown)


@pytest.mark.parametrize("lang", ["python", "java", "ruby"])
def test_without_definitions_the_header_has_only_gits_section(tmp_path: Path, lang: str) -> None:
    path, *_, expected = CASES[lang]
    base, head = _texts(CASES[lang])
    two_commits(tmp_path, {path: base}, {path: head})
    shown = sections(plan_of(tmp_path, num_ctx=SMALL_CTX, definitions=False))
    container = expected.split(" \u203a ")[0]
    assert len(shown) >= 3 and set(shown) == {container}  # git names the class, not the method


def test_a_whole_hunk_deep_in_a_class_names_its_method(tmp_path: Path) -> None:
    path, before, body, after, expected = CASES["python"]
    lines = [*before, *(body.format(i=i) for i in range(BODY)), *after]
    changed = [*lines[:40], "        evil = item.run()", *lines[40:]]
    two_commits(tmp_path, {path: "\n".join(lines) + "\n"}, {path: "\n".join(changed) + "\n"})
    assert sections(plan_of(tmp_path)) == [expected]
    assert sections(plan_of(tmp_path, definitions=False)) == ["class Store:"]


def test_a_definition_the_part_shows_is_not_repeated(tmp_path: Path) -> None:
    path = "store.py"
    attributes = "class Store:\n    x = 1\n    y = 2\n    z = 3\n    w = 4\n"
    base = attributes + "    def save(self, item):\n        a = 1\n        b = 2\n"
    head = attributes + "    def save(self, item):\n        a = 10\n        b = 2\n"
    two_commits(tmp_path, {path: base}, {path: head})
    [chunk] = plan_of(tmp_path).chunks
    assert sections(plan_of(tmp_path)) == ["class Store:"]  # `def save` is a context line
    assert "\n     def save(self, item):\n" in chunk.text  # a context line
    assert "\n class Store:" not in chunk.text


def test_a_file_outside_the_table_keeps_gits_section(tmp_path: Path) -> None:
    base = "".join(f"line {i}\n" for i in range(40))
    head = base.replace("line 30\n", "line thirty\n")
    two_commits(tmp_path, {"notes.txt": base}, {"notes.txt": head})
    assert sections(plan_of(tmp_path)) == sections(plan_of(tmp_path, definitions=False))


def test_a_push_to_one_file_leaves_the_other_files_chunks_byte_identical(tmp_path: Path) -> None:
    names = [f"pkg/m{i:02}.py" for i in range(12)]
    cases = [CASES["python"]] * len(names)
    texts = [_texts(c) for c in cases]
    repo = two_commits(tmp_path, {n: b for n, (b, _) in zip(names, texts, strict=True)},
                       {n: h for n, (_, h) in zip(names, texts, strict=True)})  # fmt: skip
    first = repo.git("rev-parse", "HEAD").decode().strip()
    before = plan_of(tmp_path, base="HEAD~1", head=first)
    repo.write(names[5], texts[5][1].replace("class Store:", "class Shop:"))
    second = repo.commit("push")
    after = plan_of(tmp_path, base=f"{first}~1", head=second)
    unchanged = [c.text for c in before.chunks if all(f.path != names[5] for f in c.files)]
    assert unchanged and set(unchanged) <= {c.text for c in after.chunks}
    assert "class Store: \u203a def save(self, item):" in "".join(unchanged)
