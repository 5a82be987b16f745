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
    return p


def main(argv: list[str] | None = None) -> int:
    from .loader import DataError
    from .paths import DataSourceError
    from .scheme import SchemeError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, SchemeError, DataSourceError) as exc:
        print(f"rss {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"rss {args.command}: interrupted; no output was replaced", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
