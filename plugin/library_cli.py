"""``foleyflow library``: index a sound library, fetch the default training library.

    foleyflow library index DIR [-o INDEX.csv] [--all-problems]
    foleyflow library fetch [--cache DIR] [--package NAME ...]

``index`` reads every recording of DIR (its category from the UCS CatID of its file name or from
``DIR/library.csv`` / ``DIR.csv``), writes the index (path, category, duration, rate, channels,
license, attribution, source, split; by default ``DIR/foleyflow-index.csv``), prints the categories
with their counts and names every file it could not use. Exit code 0 when every audio file was
indexed, 4 when some could not be (they are listed), 2 on bad input.

``fetch`` downloads the Debian packages of the default training library by name (``apt-get
download``, no root needed), keeps what ``library/sources.csv`` selects, in the cache
(``$FOLEYFLOW_CACHE`` or ``~/.cache/foleyflow``; never in the repository) and indexes it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from foleyflow.library import index as libindex

from .atomic import atomic_target
from .cli import parse_or_exit_code, run_guarded, setup_logging
from .errors import EXIT_OK, EXIT_SOME_FAILED, OutputError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foleyflow library", description="Sound libraries: index a folder of "
                                "recordings, fetch the default training library.")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-q", "--quiet", action="count", default=0)
    sub = p.add_subparsers(dest="action", required=True)
    ix = sub.add_parser("index", help="index a folder of recordings (UCS names or a CSV) and print its categories")
    ix.add_argument("folder", type=Path, metavar="DIR")
    ix.add_argument("-o", "--output", type=Path, metavar="INDEX.csv",
                    help=f"where to write the index (default: DIR/{libindex.INDEX_NAME})")
    ix.add_argument("--all-problems", action="store_true", help="list every file not used (default: the first 50)")
    fe = sub.add_parser("fetch", help="fetch and index the default training library from Debian packages")
    fe.add_argument("--cache", type=Path, metavar="DIR", help="the cache folder (default: $FOLEYFLOW_CACHE or "
                    "~/.cache/foleyflow); the library lands in DIR/library")
    fe.add_argument("--package", action="append", default=[], metavar="NAME",
                    help="fetch only this package (repeatable; default: all of library/sources.csv)")
    return p


def write_index(index: libindex.LibraryIndex, output: Path) -> Path:
    """Write ``index`` as CSV at ``output``, atomically; OutputError names the file if it cannot be."""
    if output.is_dir():
        raise OutputError("is a folder; give the index a file name (INDEX.csv)", output)
    if not output.parent.is_dir():
        raise OutputError("the folder for the index does not exist", output.parent)
    write_text_atomic(output, libindex.index_csv(index))
    return output


def write_text_atomic(path: Path, text: str) -> None:
    """The sound library's files written as every Foley-Flow file is (plugin.atomic)."""
    try:
        with atomic_target(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path) from exc


def cmd_index(args: argparse.Namespace) -> int:
    index = libindex.index_library(args.folder)
    out = write_index(index, args.output or args.folder / libindex.INDEX_NAME)
    print(libindex.summary(index, limit=None if args.all_problems else 50))
    print(f"index: {out}")
    return EXIT_SOME_FAILED if index.problems else EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from foleyflow.library import sources

    cache = args.cache or sources.default_cache()
    packages = tuple(args.package) or sources.DEFAULT_PACKAGES
    report = sources.fetch_library(cache, packages, write_text=write_text_atomic)
    print(report.summary())
    root = cache / "library"
    index = libindex.index_library(root)
    out = write_index(index, root / libindex.INDEX_NAME)
    print(libindex.summary(index, limit=50))
    print(f"index: {out}")
    return EXIT_SOME_FAILED if index.problems else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``foleyflow library ACTION ...`` (argv starts with ``library``); return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "library":
        args_list = args_list[1:]

    def body() -> int:
        args = parse_or_exit_code(build_parser(), args_list)
        if isinstance(args, int):
            return args
        setup_logging(args.verbose - args.quiet)
        return cmd_index(args) if args.action == "index" else cmd_fetch(args)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
