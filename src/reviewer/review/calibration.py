"""The model's calibration for a run: how many real tokens one estimated token is, measured by
the server on the fixed sample (chunks/calibration.py), kept per backend, model and digest in
the cache directory, and handed to planning before the chunks are cut.

The scale is a pure function of the model: the same digest gives the same scale, so the same
diff gives the same chunks and a re-run is answered from the response cache. Ollama's count
comes from a chat request and is measured once per digest, then read back; llama.cpp and vLLM
count exactly and cheaply (no generation), so they are measured on every run, and their counter
also checks every request before it is sent. Nothing here is ever fatal: any doubt leaves the
raw estimate (a scale of 1.0), which is what the run used before."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError

from reviewer.chunks.calibration import (
    calibration_sample,
    sample_estimate,
    sample_id,
    scale_from,
)
from reviewer.chunks.prompt import system_prompt, user_message
from reviewer.errors import ConfigError, ModelError
from reviewer.models import Frozen, ReviewPlan
from reviewer.review.cache import ResponseCache, make_key
from reviewer.security import neutralise_terminal as shown
from reviewer.settings.paths import default_cache_dir
from reviewer.settings.slices import ModelSettings, ReviewSettings

if TYPE_CHECKING:  # the network modules (httpx) load only when a server is asked: not in a dry run
    from reviewer.backends.tokens import PromptCounter

log = logging.getLogger(__name__)

STORE_VERSION = 1
# Room the two calibration requests need beside the doubled sample (template, nonce line).
_REQUEST_ROOM = 64
_JOIN_TOKENS = 2


class StoredCalibration(Frozen):
    """A calibration as kept on disk (the response cache's store: atomic, versioned)."""

    version: int = STORE_VERSION
    backend: str
    model: str
    digest: str | None
    sample: str  # chunks.calibration.sample_id()
    scale: float = Field(gt=0)
    sample_estimate: int = Field(gt=0)
    sample_tokens: int = Field(gt=0)
    source: str


@dataclass(frozen=True)
class Calibration:
    """The scale a run's chunks are cut with, and where it came from (for --debug)."""

    scale: float = 1.0
    source: str = "none"
    sample_estimate: int = 0
    sample_tokens: int = 0

    def describe(self) -> str:
        if self.scale == 1.0 and not self.sample_tokens:
            return f"calibration: none ({self.source}), the raw estimate is used"
        return (
            f"calibration: scale {self.scale:.4f} real tokens per estimated token (sample: "
            f"{self.sample_estimate} estimated, {self.sample_tokens} counted), from {self.source}"
        )


class Calibrator:
    """Finds the run's calibration once, when the pipeline first asks: after every local check,
    and never for an empty review. `offline` (the dry run): only a stored calibration, never
    the network."""

    def __init__(self, model: ModelSettings, review: ReviewSettings, *, offline: bool) -> None:
        self._model = model
        self._offline = offline
        self._store = None if review.no_cache else _open_store(review)
        self._found: Calibration | None = None
        self.counter: PromptCounter | None = None  # an exact counter, for the pre-send check

    def scale(self) -> float:
        if self._found is None:
            self._found = self._calibration()
            log.debug("%s", shown(self._found.describe()))
        return self._found.scale

    def close(self) -> None:
        if self.counter is not None:
            self.counter.close()

    def worst_fit(self, plan: ReviewPlan) -> float | None:
        """With an exact counter, the largest chunk's real prompt tokens over the room the
        context leaves beside the answer (above 1.0: the sample's scale was low for this diff
        and that chunk would be refused); None without one, or when the server cannot count."""
        if self.counter is None or not plan.chunks:
            return None
        system = system_prompt(plan.context)
        room = self._model.num_ctx - self._model.num_predict
        try:
            largest = max(
                self.counter.count(system, user_message(chunk, plan.context))
                for chunk in plan.chunks
            )
        except ModelError as e:
            log.debug("calibration: the chunks could not be counted: %s", shown(e.message))
            return None
        return largest / room

    def _calibration(self) -> Calibration:
        if self._offline:
            return self._stored_latest() or Calibration(source="no stored calibration")
        try:
            return self._measured()
        except (ModelError, ConfigError) as e:
            # The review's own preflight reports a server that cannot be used.
            return Calibration(source=f"the server could not count: {e.message[:200]}")

    # --- measured --------------------------------------------------------------------------

    def _measured(self) -> Calibration:
        digest = self._digest()
        from reviewer.backends.tokens import open_counter

        counter = open_counter(self._model)
        if counter is None:
            return Calibration(source="the server has no token count")
        keep = False
        try:
            if not counter.exact:
                stored = self._read(_key(self._model, digest))
                if stored is not None:
                    return _from_stored(stored, "stored")
            found = measure(counter, self._model.num_ctx)
            if found.sample_tokens:
                self._write(digest, found)
            keep = counter.exact
            return found
        finally:
            if keep:
                self.counter = counter
            else:
                counter.close()

    def _digest(self) -> str | None:
        settings = self._model.model_copy(update={"retries": 0})
        from reviewer.backends import build_backend

        backend = build_backend(settings)
        try:
            return backend.preflight().digest
        finally:
            backend.close()

    # --- stored ----------------------------------------------------------------------------

    def _read(self, key: str) -> StoredCalibration | None:
        if self._store is None:
            return None
        value = self._store.get(key)
        if value is None:
            return None
        try:
            stored = StoredCalibration.model_validate(value)
        except ValidationError:
            log.debug("calibration: ignoring a stored calibration that does not validate")
            return None
        if stored.sample != sample_id() or scale_from(stored.sample_tokens) != stored.scale:
            return None  # another sample, or a scale its own counts do not give
        return stored

    def _stored_latest(self) -> Calibration | None:
        stored = self._read(_key(self._model, None, latest=True))
        pinned = self._model.model_digest
        if stored is None or (pinned and not (stored.digest or "").startswith(_hex(pinned))):
            return None
        return _from_stored(stored, "stored, last measured")

    def _write(self, digest: str | None, found: Calibration) -> None:
        if self._store is None:
            return
        value = StoredCalibration(
            backend=self._model.backend.value,
            model=self._model.model,
            digest=digest,
            sample=sample_id(),
            scale=found.scale,
            sample_estimate=found.sample_estimate,
            sample_tokens=found.sample_tokens,
            source=found.source,
        ).model_dump()
        self._store.put(_key(self._model, digest), value)
        # What a dry run (which asks no server, so knows no digest) reads.
        self._store.put(_key(self._model, None, latest=True), value)


def measure(counter: PromptCounter, num_ctx: int) -> Calibration:
    """The sample's real tokens as the difference of two requests, the sample twice and the
    sample once: the chat template cancels out, and so does a prefix the server's prompt cache
    reused (Ollama counts only what it evaluated), since each request starts with a line of its
    own that no earlier request had."""
    sample = calibration_sample()
    estimate = sample_estimate()
    if 2 * estimate + _REQUEST_ROOM > num_ctx:
        return Calibration(source=f"the sample does not fit num_ctx {num_ctx}")
    if not counter.exact:
        # A first request of the sample's own, so that what the cache holds before each of the
        # two measured ones is the same whatever came earlier: only the template's first
        # tokens, as both start with a unique line. The same model then measures the same.
        counter.count(_unique_line("1"), sample)
    twice = counter.count(_unique_line("2"), f"{sample}\n{sample}")
    once = counter.count(_unique_line("3"), sample)
    # A token may be merged or split where the two copies meet: counted on the safe side.
    real = twice - once + _JOIN_TOKENS
    scale = scale_from(real)
    if scale is None:
        return Calibration(source=f"{counter.source} counted {real}: out of range")
    return Calibration(scale, counter.source, estimate, real)


def _unique_line(first: str) -> str:
    """A line no earlier request started with (nothing after it can be a cached prefix), of
    digits of a fixed length so that both requests' lines cost the same tokens."""
    return first + "".join(secrets.choice("0123456789") for _ in range(15))


def _from_stored(stored: StoredCalibration, how: str) -> Calibration:
    return Calibration(
        stored.scale, f"{stored.source} ({how})", stored.sample_estimate, stored.sample_tokens
    )


def _key(model: ModelSettings, digest: str | None, *, latest: bool = False) -> str:
    parts: dict[str, Any] = {
        "calibration": STORE_VERSION,
        "backend": model.backend.value,
        "model": model.model,
        "sample": sample_id(),
    }
    if latest:
        parts["latest"] = True
    else:
        parts["digest"] = digest
    return make_key(parts)


def _hex(digest: str) -> str:
    return digest.strip().lower().removeprefix("sha256:")


def _open_store(review: ReviewSettings) -> ResponseCache:
    return ResponseCache(review.cache_dir or default_cache_dir())



def raised(scale: float, worst: float) -> float:
    """`scale` raised so that a chunk `worst` times over the room would fit, rounded up to a
    thousandth."""
    return math.ceil(scale * worst * 1000) / 1000
