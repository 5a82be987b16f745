"""The ``rss`` command line: what analysts and the Makefile call.

    rss validate PATH [--scheme FILE]          check input against the data contract
    rss score PATH -o OUT.parquet [--scheme]   validate, score, write atomically
        [--cluster ADDRESS|local [--jobs N]]   ... each Parquet partition of PATH a task of a Dask cluster
    rss synth -o DIR [--seed N] [--scale X]    write the synthetic default dataset
    rss run [--country ISO3] [--jobs N] ...    run the notebooks, build the report (--lang fr: and in French)
    rss stop                                   end the kernels a run kept warm (RSS_KEEP_KERNELS)
    rss report [--lang fr]                     rebuild the report from the outputs (fr: report.fr.html)
    rss check [--root DIR] ...                 scan reports/ for disclosure and identifier problems

Bad options are refused with a message naming the option, the value found and
what is expected (exit 2, nothing written).

Imports: helpers.checks, helpers.i18n, helpers.io, helpers.loader, helpers.paths, helpers.report, helpers.runner, helpers.runner.cluster, helpers.runner.partitions, helpers.runner.pool, helpers.scheme, helpers.scoring, helpers.settings, helpers.synthetic.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .i18n import LANGS

__all__ = ["main"]


class UsageError(Exception):
    """An option's value cannot be used (the message says which and why); exit status 2."""


def _whole(what: str, minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what} (a whole number >= {minimum}); found {text!r}")
        return value
    return parse


def _positive(what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected {what} (a number > 0); found {text!r}")
        return value
    return parse


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
    from .runner.cluster import LOCAL, cluster_address
    from .scoring import score

    target = Path(args.output)
    if target.is_dir() or target.suffix.lower() != ".parquet":
        raise UsageError(f"-o {args.output}: expected the path of a .parquet file to write"
                         + (" (it is a folder)" if target.is_dir() else ""))
    address = cluster_address(args.cluster, {})  # --cluster only: RSS_CLUSTER says where `rss run` runs
    if args.jobs is not None and address != LOCAL:
        raise UsageError(f"--jobs {args.jobs}: sets the number of workers of --cluster local; found "
                         + (f"--cluster {address}" if address else "no --cluster"))
    scheme = _scheme(args.scheme)
    if address:
        from .runner import RunError
        from .runner.partitions import score_on_cluster

        try:
            done = score_on_cluster(args.path, target, scheme, address, workers=args.jobs)
        except RunError as exc:
            print(f"rss score: {exc}", file=sys.stderr)
            return 2
        n, n_comp, out = done.rows, done.composite, f"{done.path} ({done.partitions:,} partitions on {address})"
    else:
        result = load(args.path, scheme=scheme)
        scored = score(result.data, scheme)
        n, n_comp, out = len(scored), int(scored["score_composite"].notna().sum()), write_parquet(args.output, scored)
    print(f"scored {n:,} surveys ({n_comp:,} with a composite score) with scheme {scheme.id} -> {out}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from .synthetic import write_dataset

    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise UsageError(f"-o {args.output}: expected a folder to write the dataset into; it is a file")
    files = write_dataset(Path(args.output), seed=args.seed, scale=args.scale,
                          scheme=_scheme(args.scheme) if args.scheme else None)
    print(f"wrote {len(files)} files of synthetic RSS data (seed {args.seed}, scale {args.scale}) to {args.output}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import RunError, run
    from .runner.cluster import cluster_address

    try:
        return run(country=args.country, jobs=args.jobs, timeout=args.timeout, data=args.data, scheme=args.scheme,
                   force=args.force, fresh_kernels=args.fresh_kernels, cluster=cluster_address(args.cluster),
                   lang=args.lang)
    except RunError as exc:
        print(f"rss run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rss run: interrupted; the notebooks that finished kept their outputs, the ones stopped left none "
              "(no half-written file), and the report was not rebuilt: run `rss run` again to finish only what "
              "did not", file=sys.stderr)
        return 130


def cmd_stop(args: argparse.Namespace) -> int:
    from . import paths
    from .runner import pool

    n = pool.stop_kept(paths.ROOT)
    print(f"rss stop: {n} kept kernel{'s' if n != 1 else ''} of {paths.ROOT} stopped")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .checks import run_checks

    return run_checks(root=args.root, threshold=args.threshold, ids_from=args.ids_from,
                      disclosure=not args.no_disclosure, identifiers=not args.no_identifiers,
                      everything=args.everything)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import main as report_main

    return report_main(getattr(args, "lang", "en"))


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
    s.add_argument("--cluster", metavar="ADDRESS", help="score each Parquet file of PATH (a partition) as a task of "
                   "this dask.distributed scheduler (e.g. tcp://host:8786; `local`: a LocalCluster on this machine) "
                   "and assemble OUT from the scored partitions, streamed; same table as without --cluster. Workers "
                   "need PATH and the folder of OUT at the same paths. RSS_CLUSTER is not read (it is rss run's)")
    s.add_argument("--jobs", "-j", type=_whole("the number of workers", 1), metavar="N",
                   help="workers of --cluster local (default: number of cores)")
    s.set_defaults(func=cmd_score)

    y = sub.add_parser("synth", help="write the synthetic RSS dataset with planted effects")
    y.add_argument("-o", "--output", required=True, help="output folder")
    y.add_argument("--seed", type=_whole("a random seed", 0), default=20200, help="random seed (default 20200)")
    y.add_argument("--scale", type=_positive("a size multiplier"), default=1.0,
                   help="size multiplier (default 1: ~20,000 surveys)")
    y.add_argument("--scheme", help="scoring scheme YAML file (default: rss-default)")
    y.set_defaults(func=cmd_synth)

    r = sub.add_parser("run", help="run the notebooks (incremental, parallel) and build reports/report.html")
    r.add_argument("--country", type=str.upper, metavar="ISO3", help="rerun this country's notebooks only "
                   "(and 00_prepare if its input changed), then the report")
    r.add_argument("--jobs", "-j", type=_whole("the number of notebooks run at once", 1), metavar="N",
                   help="notebooks run at once (default: number of cores)")
    r.add_argument("--timeout", type=_positive("seconds one notebook may run"), default=1800.0, metavar="S",
                   help="seconds one notebook may run before it is stopped (default 1800)")
    r.add_argument("--data", metavar="PATH", help="input file or folder (default: RSS_DATA, else data/raw)")
    r.add_argument("--scheme", metavar="FILE", help="scoring scheme YAML passed to 00_prepare "
                   "(default: the notebook's)")
    r.add_argument("--force", action="store_true", help="rerun every notebook, even when nothing changed")
    r.add_argument("--fresh-kernels", action="store_true",
                   help="a new kernel for every notebook (default: each worker keeps one kernel, with the "
                        "scientific stack imported once, and resets it between notebooks)")
    r.add_argument("--cluster", metavar="ADDRESS", help="run each notebook as a task of this dask.distributed "
                   "scheduler (e.g. tcp://host:8786; `local`: a LocalCluster of --jobs workers on this machine); "
                   "default: RSS_CLUSTER, else the local pool. Workers need the project folder at the same path")
    r.add_argument("--lang", choices=LANGS, default="en",
                   help="fr: also draw the figures in French and build reports/report.fr.html beside report.html "
                        "(switching language reruns the notebooks, whose figures change)")
    r.set_defaults(func=cmd_run)

    k = sub.add_parser("stop", help="stop the kernels the last `rss run` of this project kept warm for the next "
                       "(they end by themselves after RSS_KEEP_KERNELS seconds, default 600)")
    k.set_defaults(func=cmd_stop)

    t = sub.add_parser("report", help="rebuild reports/report.html and tables.xlsx from the notebooks' outputs")
    t.add_argument("--lang", choices=LANGS, default="en",
                   help="language of the page: fr writes reports/report.fr.html beside the English report.html "
                        "(and leaves tables.xlsx and numbers.json as they are)")
    t.set_defaults(func=cmd_report)

    from .checks import add_arguments

    c = sub.add_parser("check", help="scan reports/ (and the notebooks) for cells under the disclosure threshold, "
                       "respondent ids and individual-level outputs; exit 1 listing every hit")
    add_arguments(c)
    c.set_defaults(func=cmd_check)
    return p


def _is_input_error(exc: Exception) -> bool:
    """Whether ``exc`` is a problem of the input (data, scheme, settings), not of the code.

    The error classes are imported only now, so that commands which need neither
    pandas nor the loader (a no-op ``rss run``) start fast.
    """
    from .loader import DataError
    from .paths import DataSourceError
    from .scheme import SchemeError
    from .settings import SettingError

    return isinstance(exc, (DataError, SchemeError, DataSourceError, SettingError))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"rss {args.command}: {exc}", file=sys.stderr)
        return 2
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
