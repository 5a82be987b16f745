"""The ``rss`` command line: what analysts and the Makefile call.

    rss validate PATH [--scheme FILE]          check input against the data contract
    rss score PATH -o OUT.parquet [--scheme]   validate, score, write atomically
    rss synth -o DIR [--seed N] [--scale X]    write the synthetic default dataset
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _scheme(arg: str | None):
    from .scheme import load_scheme

    return load_scheme(arg)


def cmd_validate(args: argparse.Namespace) -> int:
    from .loader import load

    result = load(args.path, scheme=_scheme(args.scheme))
    print(f"valid: {result.summary()}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .io import write_parquet
    from .loader import load
    from .scoring import score

    scheme = _scheme(args.scheme)
    result = load(args.path, scheme=scheme)
    scored = score(result.data, scheme)
    out = write_parquet(args.output, scored)
    n_comp = int(scored["score_composite"].notna().sum())
    print(f"scored {len(scored):,} surveys ({n_comp:,} with a composite score) with scheme {scheme.id} -> {out}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from .synthetic import write_dataset

    files = write_dataset(Path(args.output), seed=args.seed, scale=args.scale,
                          scheme=_scheme(args.scheme) if args.scheme else None)
    print(f"wrote {len(files)} files of synthetic RSS data (seed {args.seed}, scale {args.scale}) to {args.output}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import RunError, run

    try:
        return run(country=args.country, jobs=args.jobs, timeout=args.timeout, data=args.data, scheme=args.scheme,
                   force=args.force)
    except RunError as exc:
        print(f"rss run: {exc}", file=sys.stderr)
        return 2


def cmd_report(args: argparse.Namespace) -> int:
    from .report import main as report_main

    return report_main()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rss", description="RSS reintegration workspace command line.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a file or folder of RSS records against the data contract")
    v.add_argument("path", nargs="?", help="a .csv/.xlsx/.parquet file or a folder of them (default: RSS_DATA, "
                   "else data/raw)")
    v.add_argument("--scheme", help="scoring scheme YAML file (default: rss-default)")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("score", help="validate and score RSS records, write Parquet")
    s.add_argument("path", nargs="?", help="a .csv/.xlsx/.parquet file or a folder of them (default: RSS_DATA, "
                   "else data/raw)")
    s.add_argument("-o", "--output", required=True, help="output .parquet file (written atomically)")
    s.add_argument("--scheme", help="scoring scheme YAML file (default: rss-default)")
    s.set_defaults(func=cmd_score)

    y = sub.add_parser("synth", help="write the synthetic RSS dataset with planted effects")
    y.add_argument("-o", "--output", required=True, help="output folder")
    y.add_argument("--seed", type=int, default=20200, help="random seed (default 20200)")
    y.add_argument("--scale", type=float, default=1.0, help="size multiplier (default 1: ~20,000 surveys)")
    y.add_argument("--scheme", help="scoring scheme YAML file (default: rss-default)")
    y.set_defaults(func=cmd_synth)

    r = sub.add_parser("run", help="run the notebooks (incremental, parallel) and build reports/report.html")
    r.add_argument("--country", type=str.upper, metavar="ISO3", help="rerun this country's notebooks only "
                   "(and 00_prepare if its input changed), then the report")
    r.add_argument("--jobs", "-j", type=int, metavar="N", help="notebooks run at once (default: number of cores)")
    r.add_argument("--timeout", type=float, default=1800.0, metavar="S",
                   help="seconds one notebook may run before it is stopped (default 1800)")
    r.add_argument("--data", metavar="PATH", help="input file or folder (default: RSS_DATA, else data/raw)")
    r.add_argument("--scheme", metavar="FILE", help="scoring scheme YAML passed to 00_prepare "
                   "(default: the notebook's)")
    r.add_argument("--force", action="store_true", help="rerun every notebook, even when nothing changed")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("report", help="rebuild reports/report.html and tables.xlsx from the notebooks' outputs")
    t.set_defaults(func=cmd_report)
    return p


def _is_input_error(exc: Exception) -> bool:
    """Whether ``exc`` is a problem of the input (data, scheme, settings), not of the code.

    The error classes are imported only now, so that commands which need neither
    pandas nor the loader (a no-op ``rss run``) start fast.
    """
    from .loader import DataError
    from .paths import DataSourceError
    from .scheme import SchemeError

    return isinstance(exc, (DataError, SchemeError, DataSourceError))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # input errors get one clean message; anything else is a bug: traceback
        if not _is_input_error(exc):
            raise
        print(f"rss {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"rss {args.command}: interrupted; no output was replaced", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
