"""The commands' flag defaults are the settings slices' field defaults: read from the real typer
commands (what `--help` shows and what an unset flag means), so the two cannot drift apart."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel
from typer.testing import CliRunner

from reviewer.cli.app import app
from reviewer.cli.options import model_urls
from reviewer.settings.config import Backend
from reviewer.settings.slices import (
    DOCTOR_TIMEOUT,
    DiffSettings,
    ModelSettings,
    OutputSettings,
    PlanSettings,
    ReviewSettings,
)

RUN_SLICES: tuple[type[BaseModel], ...] = (
    DiffSettings,
    PlanSettings,
    ModelSettings,
    ReviewSettings,
    OutputSettings,
)
# Flags named apart from their field, and flags with no field of their own.
RENAMED = {"config": "config_path"}
NO_FIELD = {"ollama_url", "base_url", "debug"}  # the URL is model_url()'s choice; see below
# Fields no flag sets: fixed for every run, or read from the environment (LOCAL_LLM_OPTIONAL).
# `servers` is the list of URLs --ollama-url/--base-url give (model_urls).
NO_FLAG = {"seed", "keep_alive", "connect_timeout", "optional", "servers"}


def params(command: str) -> dict[str, Any]:
    """The click parameters of a `reviewer` subcommand, by name."""
    group: Any = typer.main.get_command(app)
    return {p.name: p for p in group.commands[command].params if p.name is not None}


def field_default(name: str, slices: tuple[type[BaseModel], ...]) -> Any:
    owners = [s for s in slices if name in s.model_fields]
    assert len(owners) == 1, f"--{name.replace('_', '-')}: in {owners or 'no slice'}"
    return owners[0].model_fields[name].default


def same(flag_default: Any, default: Any) -> bool:
    if isinstance(default, tuple):  # a repeatable flag: unset is the empty tuple
        return tuple(flag_default or ()) == default
    if isinstance(default, Enum):
        return flag_default in (default, default.value)
    return bool(flag_default == default and type(flag_default) is type(default))


def test_every_run_flag_defaults_to_its_slice_field() -> None:
    found = params("run")
    for name, param in found.items():
        if name in NO_FIELD:
            continue
        default = field_default(RENAMED.get(name, name), RUN_SLICES)
        assert same(param.default, default), f"--{name}: {param.default!r} != {default!r}"


def test_every_slice_field_has_a_flag_or_a_reason() -> None:
    flags = {RENAMED.get(name, name) for name in params("run")}
    fields = {name for s in RUN_SLICES for name in s.model_fields}
    assert fields - flags == NO_FLAG
    # The server URL: --ollama-url / --base-url, and with neither the slice's default.
    assert model_urls(Backend.OLLAMA, None, None) == (ModelSettings().base_url,)
    openai = ModelSettings(backend=Backend.OPENAI)
    assert model_urls(Backend.OPENAI, None, None) == (openai.base_url,)
    assert openai.base_url != ModelSettings().base_url


def test_doctor_checks_the_setup_run_would_use() -> None:
    found = params("doctor")
    assert found["timeout"].default == DOCTOR_TIMEOUT  # doctor's own, shorter
    assert found["repo"].default == DiffSettings().repo
    assert found["config"].default == PlanSettings().config_path
    for name in ("backend", "model", "model_digest", "allow_remote_model", "num_ctx"):
        default = ModelSettings.model_fields[name].default
        assert same(found[name].default, default), f"doctor --{name}"


@pytest.mark.parametrize(
    ("flag", "default"),
    [
        ("--timeout", ModelSettings().timeout),
        ("--num-predict", ModelSettings().num_predict),
        ("--retries", ModelSettings().retries),
        ("--max-findings", ReviewSettings().max_findings),
        ("--model", ModelSettings().model),
    ],
)
def test_help_shows_the_slice_default(flag: str, default: object) -> None:
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    # One entry per option: its first line and the wrapped lines below it, joined.
    entries = re.split(r"\n(?=  -)", result.output)
    (entry,) = [e for e in entries if e.lstrip().startswith(f"{flag} ")]
    shown = re.search(r"default: ([^;\]]+)", " ".join(entry.split()))
    assert shown is not None and shown.group(1) == str(default), entry


def test_post_max_wait_is_one_default() -> None:
    """`reviewer post --max-wait`, PostSettings and the GitHub client's policy: one default."""
    from reviewer.post.hosts.rest import RetryPolicy as GitHubRetryPolicy
    from reviewer.post.publish import PostSettings
    from reviewer.settings.config import DEFAULT_POST_MAX_WAIT

    assert params("post")["max_wait"].default == DEFAULT_POST_MAX_WAIT
    assert PostSettings(findings=Path("f.json")).max_wait == DEFAULT_POST_MAX_WAIT
    assert GitHubRetryPolicy().max_wait_s == DEFAULT_POST_MAX_WAIT


def test_the_model_retries_have_one_default() -> None:
    """--retries' default lives in the slice; the retry primitive has none of its own to
    drift from it."""
    from reviewer.net.retry import RetryPolicy
    from reviewer.settings.config import DEFAULT_RETRIES

    assert params("run")["retries"].default == ModelSettings().retries == DEFAULT_RETRIES
    with pytest.raises(TypeError):
        RetryPolicy()  # type: ignore[call-arg]


def test_the_num_ctx_hint_names_the_real_default() -> None:
    from reviewer.chunks.chunking import chunk_budget
    from reviewer.errors import UsageError

    with pytest.raises(UsageError) as e:
        chunk_budget(512, 1024)
    assert f"(default {ModelSettings().num_ctx})" in (e.value.hint or "")
