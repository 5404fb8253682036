"""The files a Dockerfile puts in its image, derived without a Docker engine.

Reads WORKDIR, ENV, COPY and ADD (local sources only) of the last stage, takes the build context as the
repository's files (``git ls-files``: what a clone holds, plus untracked files git does not ignore) less what
``.dockerignore`` excludes, and maps each image path to the repository file copied there. Patterns match as
Docker's (moby/patternmatcher): ``*`` and ``?`` stop at ``/``, ``**`` spans directories, a pattern that
matches a directory excludes what is under it, ``!`` re-includes, and the last matching pattern wins.
"""

import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass
class Image:
    """What a Dockerfile's last stage holds: its working directory, environment and copied files."""

    workdir: PurePosixPath = field(default_factory=lambda: PurePosixPath("/"))
    env: dict[str, str] = field(default_factory=dict)
    files: dict[PurePosixPath, str] = field(default_factory=dict)  # image path -> context path


@dataclass(frozen=True)
class IgnorePattern:
    regex: re.Pattern[str]
    exclusion: bool


def build_image(context: Path) -> Image:
    """The image ``context/Dockerfile`` builds from ``context``; raises ValueError for a COPY source it lacks."""
    files = context_files(context)
    image = Image()
    for instruction, arguments in instructions((context / "Dockerfile").read_text()):
        if instruction == "FROM":
            image = Image()
        elif instruction == "WORKDIR":
            image.workdir = image.workdir / arguments
        elif instruction == "ENV":
            image.env.update(_env(arguments))
        elif instruction in ("COPY", "ADD"):
            _copy(image, arguments, files)
    return image


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, backslash-continued lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and not line:
            continue
        if line.startswith("#"):
            continue  # a comment, also inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            word, _, rest = whole.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def context_files(context: Path) -> set[str]:
    """The build context's files (POSIX paths relative to it) after ``.dockerignore``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=context, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    paths = {path for path in listed.split("\0") if path and (context / path).is_file()}
    ignore = context / ".dockerignore"
    patterns = ignore_patterns(ignore.read_text()) if ignore.exists() else []
    return {path for path in paths if not ignored(path, patterns)}


def ignore_patterns(text: str) -> list[IgnorePattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        pattern = line[1:].strip() if exclusion else line
        pattern = str(PurePosixPath(pattern)).lstrip("/")  # Docker cleans the pattern and drops a leading /
        patterns.append(IgnorePattern(re.compile(_regex(pattern)), exclusion))
    return patterns


def ignored(path: str, patterns: list[IgnorePattern]) -> bool:
    """Whether Docker leaves ``path`` out of the context: the last pattern matching it or a parent decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        if any(pattern.regex.fullmatch(candidate) for candidate in candidates):
            excluded = not pattern.exclusion
    return excluded


def _regex(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
            out += ".*" if i == len(pattern) else "(.*/)?"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise ValueError(f".dockerignore: unclosed [ in {pattern!r}")
            out += pattern[i : end + 1]
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out


def _env(arguments: str) -> dict[str, str]:
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # legacy form: ENV KEY value
    return dict(word.split("=", 1) for word in words)


def _copy(image: Image, arguments: str, files: set[str]) -> None:
    words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
    flags = [word for word in words if word.startswith("--")]
    if any(flag.startswith("--from=") for flag in flags):
        return  # from another stage or image, not the context
    *sources, target = [word for word in words if not word.startswith("--")]
    destination = image.workdir / target
    into_directory = target.endswith("/") or len(sources) > 1 or any(_is_glob(source) for source in sources)
    for source in sources:
        for path, relative in _expand(source, files):
            if relative is None:  # a file
                image.files[destination / PurePosixPath(path).name if into_directory else destination] = path
            else:  # a file inside a copied directory: the directory's contents land in the destination
                image.files[destination / relative] = path


def _expand(source: str, files: set[str]) -> list[tuple[str, str | None]]:
    """The context files a COPY source names: (path, None) for a file, (path, path inside it) for a directory."""
    clean = str(PurePosixPath("/", source)).lstrip("/")
    if _is_glob(clean):
        regex = re.compile(_regex(clean.replace("**", "*")))  # COPY wildcards are filepath.Match: no **
        roots = {p for f in files for p in _prefixes(f) if regex.fullmatch(p)}
    else:
        roots = {clean}
    found: list[tuple[str, str | None]] = []
    for root in sorted(roots):
        if root in files:
            found.append((root, None))
        else:
            prefix = "" if root == "" else root + "/"
            found += [(f, f[len(prefix) :]) for f in sorted(files) if f.startswith(prefix)]
    if not found:
        raise ValueError(f"COPY {source}: not in the build context (missing, or excluded by .dockerignore)")
    return found


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _is_glob(source: str) -> bool:
    return any(char in source for char in "*?[")
