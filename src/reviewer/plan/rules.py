"""The repository's review rules, read through the same reader as the config file (the base
revision for a git range, so a pull request cannot rewrite the rules it is judged by): the
rules file, AGENTS.md when the config opts in, and the config's `instructions` and `[[rules]]`.
Bounded in tokens: every rule for every chunk is sent with every request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reviewer.chunks.prompt import exact_estimate, render_rules
from reviewer.errors import ConfigError
from reviewer.models import Rule
from reviewer.settings.config import RepoConfig

RULES_FILE = ".reviewer/rules.md"
AGENTS_FILE = "AGENTS.md"
# Estimated tokens (README "The repository's rules"): the rules for every chunk together, and
# the path-scoped rules together (each chunk's budget keeps room for all of them).
MAX_RULES_TOKENS = 1000
MAX_SCOPED_RULES_TOKENS = 1000


class RulesReader(Protocol):
    def config_text(self, name: str) -> str | None: ...


def read_rules(
    config: RepoConfig, config_name: str | None, reader: RulesReader
) -> tuple[Rule, ...]:
    """Every rule the repository gives, rules for every chunk first; ConfigError (exit 2) when
    either group is over its bound."""
    every = [
        *_file_rule(reader, RULES_FILE),
        *(_file_rule(reader, AGENTS_FILE) if config.agents_md else ()),
    ]
    where = config_name or "the config file"
    if config.instructions.strip():
        every.append(Rule(source=f"{where} instructions", text=config.instructions.strip()))
    scoped = [
        Rule(source=f"{where} rules[{n}]", text=entry.text.strip(), paths=entry.paths)
        for n, entry in enumerate(config.rules, 1)
    ]
    _check_bound(every, MAX_RULES_TOKENS, "the rules for every chunk")
    _check_bound(scoped, MAX_SCOPED_RULES_TOKENS, "the path-scoped [[rules]]")
    return (*every, *scoped)


def _file_rule(reader: RulesReader, name: str) -> tuple[Rule, ...]:
    text = reader.config_text(name)
    return (Rule(source=name, text=text.strip()),) if text and text.strip() else ()


def _check_bound(rules: Sequence[Rule], limit: int, what: str) -> None:
    tokens = exact_estimate(render_rules(rules))
    if tokens > limit:
        names = ", ".join(r.source for r in rules)
        raise ConfigError(
            f"{what} ({names}) are about {tokens} tokens, over the limit of {limit}",
            hint="shorten them: each is sent with every request it applies to "
            "(README 'The repository's rules')",
        )
