"""The compose files keep the deployment plan's hardening: a later edit cannot drop it quietly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.shipfiles import COMPOSE, ROOT, load

BASE = load(COMPOSE / "docker-compose.yml")
VLLM = load(COMPOSE / "docker-compose.vllm.yml")
DEV = load(COMPOSE / "dev.override.yml")
GPU = load(COMPOSE / "gpu.override.yml")

ALL_SERVICES = [
    pytest.param(doc["services"][name], id=f"{label}:{name}")
    for label, doc in (("base", BASE), ("vllm", VLLM))
    for name in doc["services"]
]


def env(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    assert isinstance(value, dict), "environment is written as a mapping"
    return {str(k): str(v) for k, v in value.items()}


def tmpfs_paths(service: dict[str, Any]) -> set[str]:
    return {entry.split(":", 1)[0] for entry in service.get("tmpfs", [])}


def volume(service: dict[str, Any], source: str) -> dict[str, Any]:
    matches = [
        v for v in service.get("volumes", []) if isinstance(v, dict) and v["source"] == source
    ]
    assert len(matches) == 1, f"one long-syntax mount of {source}"
    return matches[0]


@pytest.mark.parametrize("service", ALL_SERVICES)
def test_every_service_is_locked_down(service: dict[str, Any]) -> None:
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert "/tmp" in tmpfs_paths(service)
    resources = service["deploy"]["resources"]
    for kind in ("limits", "reservations"):
        assert {"cpus", "memory"} <= set(resources[kind]), kind


@pytest.mark.parametrize("doc", [BASE, VLLM], ids=["base", "vllm"])
def test_serving_network_has_no_route_out(doc: dict[str, Any]) -> None:
    assert doc["networks"]["review"]["internal"] is True
    for name, service in doc["services"].items():
        if name == "model-init":
            continue
        assert service["networks"] == ["review"], name
        assert "ports" not in service, f"{name} publishes ports"


@pytest.mark.parametrize("doc", [BASE, VLLM], ids=["base", "vllm"])
def test_model_init_is_the_only_service_with_egress_and_only_when_provisioning(
    doc: dict[str, Any],
) -> None:
    init = doc["services"]["model-init"]
    assert init["profiles"] == ["provision"]
    assert init["networks"] == ["egress"]
    assert not doc["networks"]["egress"].get("internal", False)
    assert init["restart"] == "no"


def test_ollama_settings_match_the_reviewers_concurrency_and_readonly_models() -> None:
    ollama = BASE["services"]["ollama"]
    settings = env(ollama)
    assert settings["OLLAMA_NUM_PARALLEL"] == "1"
    assert settings["OLLAMA_MAX_LOADED_MODELS"] == "1"
    assert settings["OLLAMA_NOPRUNE"] == "1"
    models = volume(ollama, "models")
    assert models["read_only"] is True
    assert settings["OLLAMA_MODELS"] == models["target"]
    # Its key pair is written under HOME at start: HOME must be a tmpfs on a read-only root.
    assert settings["HOME"] in tmpfs_paths(ollama)
    assert ollama["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert ollama["user"] != "0" and not ollama["user"].startswith("0:")


def test_model_init_writes_the_volume_the_server_reads() -> None:
    init = BASE["services"]["model-init"]
    assert volume(init, "models").get("read_only", False) is False
    assert env(init)["OLLAMA_MODELS"] == volume(init, "models")["target"]
    assert "ollama pull" in init["command"][0]


@pytest.mark.parametrize(("doc", "server"), [(BASE, "ollama"), (VLLM, "vllm")])
def test_reviewer_starts_after_the_server_is_healthy(doc: dict[str, Any], server: str) -> None:
    reviewer = doc["services"]["reviewer"]
    assert reviewer["depends_on"] == {server: {"condition": "service_healthy"}}
    assert "healthcheck" in doc["services"][server]
    assert volume(reviewer, "${REVIEWER_REPO:-..}")["read_only"] is True
    assert f"http://{server}:" in (
        env(reviewer).get("OLLAMA_BASE_URL", "") + env(reviewer).get("REVIEWER_BASE_URL", "")
    )


def test_vllm_variant_uses_the_openai_backend_offline_with_tensor_parallelism() -> None:
    vllm = VLLM["services"]["vllm"]
    assert env(vllm)["HF_HUB_OFFLINE"] == "1"
    assert volume(vllm, "hf-models")["read_only"] is True
    assert any(arg.startswith("--tensor-parallel-size=") for arg in vllm["command"])
    assert env(VLLM["services"]["reviewer"])["REVIEWER_BACKEND"] == "openai"


def test_dev_variant_publishes_ollama_on_loopback_only_without_egress() -> None:
    ports = DEV["services"]["ollama"]["ports"]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports)
    assert set(DEV["services"]) == {"ollama"}
    dev_network = DEV["networks"]["dev"]
    assert dev_network["driver_opts"]["com.docker.network.bridge.enable_ip_masquerade"] == "false"


def test_gpu_variant_only_adds_devices() -> None:
    ollama = GPU["services"]["ollama"]
    assert set(GPU["services"]) == {"ollama"}
    assert set(ollama) == {"deploy"}
    devices = ollama["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]


REQUIRED = re.compile(r"\$\{(REVIEWER_[A-Z]+):\?([^$}]+)\}")


@pytest.mark.parametrize("doc", [BASE, VLLM], ids=["base", "vllm"])
def test_reviewer_writes_its_output_as_a_user_and_to_a_directory_the_operator_names(
    doc: dict[str, Any],
) -> None:
    # With defaults (user 10001, ./out) the container could not write a directory the operator
    # made: the three have none, and compose stops with the message until they are set.
    reviewer = doc["services"]["reviewer"]
    uid, gid = reviewer["user"].split("}:", 1)
    assert REQUIRED.fullmatch(uid + "}") and REQUIRED.fullmatch(gid)
    assert [m.group(1) for m in REQUIRED.finditer(reviewer["user"])] == [
        "REVIEWER_UID",
        "REVIEWER_GID",
    ]
    (out,) = [v for v in reviewer["volumes"] if v["target"] == "/work/out"]
    match = REQUIRED.fullmatch(out["source"])
    assert match and match.group(1) == "REVIEWER_OUT" and "directory you own" in match.group(2)
    assert out["type"] == "bind" and not out.get("read_only", False)
    command = reviewer["command"]
    assert command[command.index("--output") + 1].startswith(out["target"] + "/")


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize(
    "path",
    [ROOT / "README.md", ROOT / "docs" / "deploy.md", COMPOSE / "docker-compose.yml"],
    ids=lambda p: p.name,
)
def test_the_quick_start_sets_the_output_directory_and_user_before_compose_runs(
    path: Path,
) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".yml":  # the usage in the header comment
        blocks = ["\n".join(line[4:] for line in text.splitlines() if line.startswith("#   "))]
    else:
        blocks = [b for b in shell_blocks(text) if "export REVIEWER_" in b]
    assert blocks, f"{path.name} shows no setup for compose"
    setup = blocks[0]
    for needed in ('REVIEWER_OUT="$PWD/out"', 'REVIEWER_UID="$(id -u)"', 'REVIEWER_GID="$(id -g)"'):
        assert needed in setup, f"{path.name}: {needed}"
    assert 'mkdir -p "$REVIEWER_OUT"' in setup
    if "docker compose" in setup:
        assert setup.index("mkdir -p") < setup.index("docker compose")
