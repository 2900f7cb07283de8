"""The compose files keep the deployment plan's hardening: a later edit cannot drop it quietly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.shipfiles import COMPOSE, load

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
