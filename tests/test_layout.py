"""The package layout is the pipeline: imports between the packages of src/reviewer only point
down an ordered list of layers, and no two packages import each other, directly or round a loop.

Every module is parsed with `ast` (nothing is imported), so a deferred import inside a function
counts as much as one at the top: it is still a dependency."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.sourcefiles import SRC, python_modules

# Top to bottom. A package may import its own modules and any package on a LOWER layer; packages
# that share a layer are independent stages and may not import each other (the model side,
# `review`, and the poster, `post`, never meet). `reviewer` is the package root (__version__).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),  # the command line: options, the error boundary, one module per command
    ("eval",),  # `reviewer eval`: a labelled corpus through the real review, scored
    ("post", "review"),  # the poster (token holder) | the run: plan, model loop, document write
    ("formats",),  # every output format, the Markdown summary and its sanitiser
    ("backends", "findings"),  # model servers | strict answers, the document, the verdict
    ("plan",),  # the review plan: source -> parse -> filter -> chunk, within budget
    ("chunks",),  # bounded chunks, their rendering, the prompt and the answer schema
    ("diff",),  # sources, parsing, filters
    ("settings",),  # the run's settings, the config file, defaults
    ("ci", "net"),  # what the CI environment says | retries and Retry-After for HTTP clients
    ("security",),  # environment scrub, egress policy, escaping
    ("models",),  # frozen value types
    ("errors",),  # the error tree and exit codes
    ("reviewer",),  # the package root: __version__ only
)
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
# Lower layers a package still may not import. The backends are given the prompts and the answer
# schema by the review loop: they send what they are handed and know nothing of chunks, the plan
# or the diff (issue 12).
NOT_IMPORTED: dict[str, frozenset[str]] = {"backends": frozenset({"plan", "chunks", "diff"})}


def package_of(module: str) -> str:
    """`reviewer.post.hosts.github` -> `post`; `reviewer.security` -> `security`; `reviewer` itself
    (the root package, where __version__ lives) -> `reviewer`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path, src: Path) -> str:
    rel = path.relative_to(src.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str, src: Path) -> bool:
    rel = Path(*name.split(".")[1:])
    return (src / rel).with_suffix(".py").is_file() or (src / rel / "__init__.py").is_file()


def imports(path: Path, src: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of ours in the file. `from reviewer import
    prompt` imports the module reviewer.chunks.prompt, `from reviewer import __version__` the root."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "reviewer":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports"
            base = node.module or ""
            if base.split(".")[0] != "reviewer":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if is_module(sub, src) else base


def edges(src: Path) -> list[tuple[str, int, str, str]]:
    """(file, line, from package, to package) for each import that crosses packages."""
    found = set()
    for path in python_modules(src):
        here = package_of(module_name(path, src))
        for line, target in imports(path, src):
            there = package_of(target)
            if there != here:
                found.add((str(path.relative_to(src.parent.parent)), line, here, there))
    return sorted(found)


def layer_violations(src: Path) -> list[str]:
    problems = []
    for file, line, here, there in edges(src):
        if here not in RANK or there not in RANK:
            unknown = here if here not in RANK else there
            problems.append(f"{file}:{line}: package `{unknown}` is on no layer of LAYERS")
        elif there in NOT_IMPORTED.get(here, ()):
            problems.append(
                f"{file}:{line}: `{here}` imports `{there}`, which it must not use: it is given "
                "what it needs"
            )
        elif RANK[there] == RANK[here]:
            problems.append(
                f"{file}:{line}: `{here}` imports `{there}`: they share a layer and must stay "
                "independent"
            )
        elif RANK[there] < RANK[here]:
            problems.append(
                f"{file}:{line}: `{here}` imports `{there}`, a higher layer (imports only go "
                f"down: {' > '.join('/'.join(layer) for layer in LAYERS)})"
            )
    return problems


def cycles(src: Path) -> list[list[str]]:
    """Every loop in the package graph, each as the packages round it (first repeated)."""
    graph: dict[str, set[str]] = {}
    for _, _, here, there in edges(src):
        graph.setdefault(here, set()).add(there)
    loops: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    loops.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return loops


def test_no_import_cycles_between_packages() -> None:
    loops = cycles(SRC)
    assert not loops, "import cycles between packages:\n" + "\n".join(
        " -> ".join(loop) for loop in loops
    )


def test_imports_only_go_down_the_layers() -> None:
    problems = layer_violations(SRC)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_every_package_is_on_a_layer() -> None:
    packages = {package_of(module_name(p, SRC)) for p in python_modules(SRC)}
    assert packages <= set(RANK), f"not on any layer: {sorted(packages - set(RANK))}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src" / "reviewer"
    for name, text in {"__init__.py": "", **files}.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return src


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "errors.py": "",
            "formats/__init__.py": "",
            "formats/markdown.py": "def f():\n    from reviewer.post.render import x\n",
            "post/__init__.py": "",
            "post/render.py": "from reviewer import errors\n",
        },
    )
    assert layer_violations(src) == [
        "src/reviewer/formats/markdown.py:2: `formats` imports `post`, a higher layer (imports "
        "only go down: " + " > ".join("/".join(layer) for layer in LAYERS) + ")"
    ]


def test_a_backend_that_fetches_the_schema_itself_is_named(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "backends/__init__.py": "",
            "backends/ollama.py": "from reviewer.chunks.prompt import findings_schema\n",
            "chunks/__init__.py": "",
            "chunks/prompt.py": "",
        },
    )
    assert layer_violations(src) == [
        "src/reviewer/backends/ollama.py:1: `backends` imports `chunks`, which it must not use: "
        "it is given what it needs"
    ]


def test_a_loop_and_a_peer_import_are_found(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "review/__init__.py": "from reviewer.post import poster\n",
            "post/__init__.py": "",
            "post/poster.py": "import reviewer.review\n",
        },
    )
    assert cycles(src) == [["post", "review", "post"]]
    assert any("`review` imports `post`: they share a layer" in p for p in layer_violations(src))


# Inside `post`: the poster reaches a host module only through the registry (post.hosts, which
# picks the host), and a host module never imports the poster's side of the package.
POSTER_SIDE = frozenset(
    {"reviewer.post.poster", "reviewer.post.publish", "reviewer.post.identity", "reviewer.post.bodies"}
)


def host_violations(src: Path) -> list[str]:
    problems = []
    for path in python_modules(src):
        here = module_name(path, src)
        in_hosts = here.startswith("reviewer.post.hosts")
        file = str(path.relative_to(src.parent.parent))
        for line, target in imports(path, src):
            if in_hosts and target in POSTER_SIDE:
                problems.append(f"{file}:{line}: host module `{here}` imports the poster's `{target}`")
            elif not in_hosts and target.startswith("reviewer.post.hosts."):
                problems.append(
                    f"{file}:{line}: `{here}` imports the host module `{target}`: go through "
                    "the registry, reviewer.post.hosts.open_host"
                )
    return problems


def test_hosts_are_reached_only_through_the_registry_and_never_import_the_poster() -> None:
    problems = host_violations(SRC)
    assert not problems, "imports between the poster and the hosts:\n" + "\n".join(problems)


def test_a_host_importing_the_poster_and_a_poster_importing_a_host_are_named(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "post/__init__.py": "",
            "post/host.py": "",
            "post/poster.py": "from reviewer.post.hosts import open_host\n",
            "post/publish.py": "def f():\n    from reviewer.post.hosts.github import GitHubHost\n",
            "post/hosts/__init__.py": "from reviewer.post.hosts.github import GitHubHost\n",
            "post/hosts/github.py": "from reviewer.post.host import Host\nfrom reviewer.post import bodies\n",
            "post/bodies.py": "",
        },
    )
    assert host_violations(src) == [
        "src/reviewer/post/hosts/github.py:2: host module `reviewer.post.hosts.github` imports "
        "the poster's `reviewer.post.bodies`",
        "src/reviewer/post/publish.py:2: `reviewer.post.publish` imports the host module "
        "`reviewer.post.hosts.github`: go through the registry, reviewer.post.hosts.open_host",
    ]
