"""The model server as `reviewer eval` uses it: preflighted once per evaluation, not once per
case. Every case goes through the real review loop, which preflights its backend; this wrapper
answers the second and later preflights with the first one's result (the same server, model
and digest check), and passes everything else through unchanged."""

from __future__ import annotations

from typing import Any

from reviewer.backends.interface import ModelBackend, ModelReply, ServerInfo


class PreflightOnce:
    """A `ModelBackend` whose preflight reaches the server only until it first succeeds. A
    failed preflight is not remembered: it stops the evaluation (exit 3), as in `reviewer run`."""

    def __init__(self, inner: ModelBackend) -> None:
        self._inner = inner
        self._info: ServerInfo | None = None

    @property
    def name(self) -> str:
        return self._inner.name

    def preflight(self) -> ServerInfo:
        if self._info is None:
            self._info = self._inner.preflight()
        return self._info

    def request_body(self, system: str, user: str, *, schema: dict[str, Any]) -> bytes:
        return self._inner.request_body(system, user, schema=schema)

    def chat(self, body: bytes, *, estimated_prompt_tokens: int) -> ModelReply:
        return self._inner.chat(body, estimated_prompt_tokens=estimated_prompt_tokens)

    def generation_options(self) -> dict[str, Any]:
        return self._inner.generation_options()

    def close(self) -> None:
        self._inner.close()
