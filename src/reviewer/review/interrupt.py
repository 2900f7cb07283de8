"""SIGINT and SIGTERM during `reviewer run`: raise `Interrupted` in the main thread so the
in-flight request stops, and hold signals while the findings document is being finished so
a second signal cannot cut the write short.

Exit codes follow the shell convention, 128 + the signal number (130 for SIGINT, 143 for
SIGTERM), for both signals and whatever LOCAL_LLM_OPTIONAL says: a cancelled review is never
reported as a success."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer.models import FindingsDocument

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):  # noqa: N818 - reads as "the run was Interrupted"
    """The run was asked to stop by a signal. A KeyboardInterrupt, so no `except Exception`
    on the way up swallows it; carries the partial document once the review has built it."""

    def __init__(self, signum: int, document: FindingsDocument | None = None) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum
        self.document = document

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def with_document(self, document: FindingsDocument) -> Interrupted:
        return Interrupted(self.signum, document)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class _State:
    """Whether signals are held, and the first one that arrived while they were."""

    def __init__(self) -> None:
        self.held = False
        self.pending: int | None = None


_state = _State()


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state.held:
        if _state.pending is None:
            _state.pending = signum
        return
    raise Interrupted(signum)


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` in the main thread (a blocked
    socket read, file lock or sleep returns with it at once). Outside the main thread, where
    Python cannot set handlers, this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # A signal the parent set to be ignored (SIGINT for a background job `reviewer run &`)
    # stays ignored: Ctrl-C at that terminal is not meant for this process.
    wanted = [s for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, _handler) for s in wanted}
    _state.held, _state.pending = False, None
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
        _state.held, _state.pending = False, None


def hold() -> None:
    """From now on a signal is remembered instead of raised: the review's results are in and
    the document must be finished whole. `release()` raises it afterwards."""
    _state.held = True


def release() -> None:
    """Stop holding; raise `Interrupted` for a signal that arrived while held."""
    _state.held = False
    pending, _state.pending = _state.pending, None
    if pending is not None:
        raise Interrupted(pending)
