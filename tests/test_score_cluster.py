"""``rss score --cluster``: a partitioned Parquet folder scored partition by partition on a 2-worker LocalCluster.

The input is the synthetic dataset (``helpers.synthetic.simulate``, small scale) split
into hive-style partitions, two files a country (``country=SEN/part-0.parquet``), one
of them without the optional ``age`` column and one with no ``return_from`` at all.
The scored file must read back as the very table ``rss score`` writes without
``--cluster`` (same values, row order, dtypes, categories, Arrow schema and pandas
metadata; the row groups differ, so the bytes do); bad input gets the same lines as
without ``--cluster`` and changes nothing.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.cli import main
from helpers.provenance import helpers_hash
from helpers.runner import cluster, partitions
from helpers.runner.registry import RunError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def address():
    """The scheduler of a LocalCluster of 2 single-thread worker processes, for the whole module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The synthetic records as hive-style Parquet partitions: ``parts/country=XXX/part-{0,1}.parquet``."""
    from helpers.synthetic import simulate

    df, _truth = simulate(seed=7, scale=0.05)
    root = tmp_path_factory.mktemp("synthetic") / "parts"
    for iso3, sub in df.groupby("country", sort=True):
        folder = root / f"country={iso3}"
        folder.mkdir(parents=True)
        half = len(sub) // 2
        first, second = sub.iloc[:half], sub.iloc[half:]
        if iso3 == "GIN":
            first = first.drop(columns=["age"])  # an optional column absent from one partition
        if iso3 == "SEN":
            second = second.assign(return_from=None)  # a partition with no value of an observed category
        first.to_parquet(folder / "part-0.parquet", index=False)
        second.to_parquet(folder / "part-1.parquet", index=False)
    return root


@pytest.fixture
def work(tmp_path, synthetic, monkeypatch):
    """A working folder holding a copy of the partitions as ``parts/``; files are named relative to it."""
    shutil.copytree(synthetic, tmp_path / "parts")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rss(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_cluster_writes_the_table_rss_score_writes_without_it(work, address, capsys, monkeypatch):
    code, out, err = rss(capsys, "score", "parts", "-o", "local/scored.parquet")
    assert code == 0, err
    # the client only lists the files: reading one here (not on a worker) would fail
    from helpers.loader import reading

    def not_here(*_a, **_k):
        raise AssertionError("the client read a partition")

    monkeypatch.setattr(reading, "read_file", not_here)
    code, out_c, err = rss(capsys, "score", "parts", "-o", "cluster/scored.parquet", "--cluster", address)
    assert code == 0, err
    n = len(list((work / "parts").rglob("*.parquet")))
    assert out_c.startswith(out.split(" -> ")[0]) and f"({n} partitions on {address})" in out_c
    local, on_cluster = work / "local" / "scored.parquet", work / "cluster" / "scored.parquet"
    a, b = pd.read_parquet(local), pd.read_parquet(on_cluster)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["country"].cat.categories.is_monotonic_increasing and a["return_from"].cat.categories.size > 1
    assert pq.read_schema(local).equals(pq.read_schema(on_cluster), check_metadata=True)
    assert pq.read_table(local).equals(pq.read_table(on_cluster), check_metadata=True)
    meta = pq.ParquetFile(on_cluster).metadata
    assert meta.num_row_groups == n and meta.num_rows == len(a)  # streamed: one row group a (small) partition
    assert sorted(p.name for p in on_cluster.parent.iterdir()) == ["scored.parquet"]  # the parts folder is gone


def _break(work: Path, file: str, row: int, **values) -> None:
    path = work / "parts" / file
    df = pd.read_parquet(path)
    for col, v in values.items():
        df[col] = df[col].astype(object)
        df.loc[row - 2, col] = v  # row as the messages count it: the header is row 1
    df.to_parquet(path, index=False)


@pytest.mark.parametrize("case", ["duplicate across partitions", "bad value in one partition", "not parquet"])
def test_bad_input_gets_the_lines_of_rss_score_and_leaves_out_untouched(work, address, capsys, case):
    if case == "duplicate across partitions":  # MAR's part-1 row 4 repeats GIN's part-0 row 3 (id and wave)
        gin = pd.read_parquet(work / "parts" / "country=GIN" / "part-0.parquet")
        _break(work, "country=MAR/part-1.parquet", 4, respondent_id=gin.loc[1, "respondent_id"],
               wave=int(gin.loc[1, "wave"]))
        expected = ("parts/country=MAR/part-1.parquet row 4, column respondent_id: has the same respondent_id and "
                    f"wave ({int(gin.loc[1, 'wave'])}) as parts/country=GIN/part-0.parquet row 3: each "
                    "(respondent_id, wave) must be unique")
    elif case == "bad value in one partition":
        _break(work, "country=SEN/part-1.parquet", 6, eco_food_reduce=7)
        expected = ("parts/country=SEN/part-1.parquet row 6, column eco_food_reduce: 7 is not an answer code "
                    "(allowed 1-5, or 97/98/99)")
    else:
        pd.read_parquet(work / "parts" / "country=SEN" / "part-0.parquet").to_csv(work / "parts" / "sen.csv")
        expected = ("parts/sen.csv: is not a Parquet file: rss score --cluster scores Parquet partitions only "
                    "(convert it, or score without --cluster)")
    out = work / "out" / "scored.parquet"
    out.parent.mkdir()
    out.write_bytes(b"the previous scored file")
    code, _, err = rss(capsys, "score", "parts", "-o", str(out), "--cluster", address)
    assert code == 1
    assert err.splitlines() == ["rss score: 1 problem in the input:", expected]
    if case != "not parquet":  # the same lines as without --cluster
        assert rss(capsys, "score", "parts", "-o", str(out)) == (1, "", err)
    assert out.read_bytes() == b"the previous scored file"
    assert sorted(p.name for p in out.parent.iterdir()) == ["scored.parquet"]  # no temporary file or folder left


def test_partitions_typed_apart_read_as_stacked(work, address, capsys):
    """An id column int64 in one partition and float64 in another (a duplicate between them), and a bad code in
    an int column beside a float one: the lines are those of rss score, which stacks the files first."""
    (work / "two").mkdir()  # two partitions only: stacked, their ids are float64 (with text ids, object)
    a_path, b_path = work / "two" / "a.parquet", work / "two" / "b.parquet"
    a = pd.read_parquet(work / "parts" / "country=GIN" / "part-0.parquet")
    b = pd.read_parquet(work / "parts" / "country=MAR" / "part-1.parquet")
    ids = pd.Series(range(100, 100 + len(a)), dtype="int64")
    a = a.assign(respondent_id=ids.to_numpy())
    b.loc[:2, "wave"] = a.loc[:2, "wave"].to_numpy()
    b = b.assign(respondent_id=[float(x) for x in range(100, 103)] + [float(5000 + i) for i in range(len(b) - 3)])
    a.to_parquet(a_path, index=False)
    b.to_parquet(b_path, index=False)
    local = rss(capsys, "score", "two", "-o", "s.parquet")
    assert local[0] == 1 and "has the same respondent_id and wave" in local[2]
    assert rss(capsys, "score", "two", "-o", "s.parquet", "--cluster", address) == local
    # without the duplicate the scored tables agree, ids included ("100.0", as stacking makes them)
    b.assign(respondent_id=[float(9000 + i) for i in range(len(b))]).to_parquet(b_path, index=False)
    assert rss(capsys, "score", "two", "-o", "local.parquet")[0] == 0
    assert rss(capsys, "score", "two", "-o", "cluster.parquet", "--cluster", address)[0] == 0
    x, y = pd.read_parquet(work / "local.parquet"), pd.read_parquet(work / "cluster.parquet")
    pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert "100.0" in set(x["respondent_id"].astype(str))


def test_many_duplicates_are_listed_as_rss_score_lists_them(work, address, capsys):
    # 25 rows of MAR's second partition repeat its first partition's: 20 lines, then a count, as without --cluster
    first = work / "parts" / "country=MAR" / "part-0.parquet"
    second = work / "parts" / "country=MAR" / "part-1.parquet"
    a, b = pd.read_parquet(first), pd.read_parquet(second)
    b.loc[:24, ["respondent_id", "wave"]] = a.loc[:24, ["respondent_id", "wave"]].to_numpy()
    b.to_parquet(second, index=False)
    code, _, err = rss(capsys, "score", "parts", "-o", "s.parquet", "--cluster", address)
    assert code == 1 and "... and 5 more duplicated (respondent_id, wave) rows" in err
    assert rss(capsys, "score", "parts", "-o", "s.parquet") == (1, "", err)
    assert not (work / "s.parquet").exists()


def test_a_cluster_that_cannot_serve_is_refused_by_name(work, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    code, _, err = rss(capsys, "score", "parts", "-o", "new/folder/s.parquet", "--cluster", "tcp://127.0.0.1:9")
    assert code == 2 and err.startswith("rss score: --cluster tcp://127.0.0.1:9: cannot reach the Dask scheduler")
    assert sorted(p.name for p in work.iterdir()) == ["parts"]  # not even OUT's folders
    code, _, err = rss(capsys, "score", "parts", "-o", "s.parquet", "--jobs", "2")
    assert code == 2 and "--jobs 2: sets the number of workers of --cluster local; found no --cluster" in err

    # a worker that does not see an input file, or runs other helpers code (its answers to the probe, faked)
    class Client:
        def __init__(self, answers):
            self.answers = answers

        def run(self, _probe, *_args):
            return self.answers

    seen = {"sees_project": True, "missing": [], "helpers": helpers_hash(), "host": "h"}
    with pytest.raises(RunError, match=r"^--cluster tcp://s:8786: tcp://w:1 \(h\) does not see /in/p.parquet "
                                       r"\(a shared path is needed\)$"):
        cluster.check_workers(Client({"tcp://w:1": {**seen, "missing": ["/in/p.parquet"]}}), work,
                              address="tcp://s:8786", shared="the folder of s.parquet")
    with pytest.raises(RunError, match=r"tcp://w:2 \(h\) runs other helpers code than this process"):
        cluster.check_workers(Client({"tcp://w:1": seen, "tcp://w:2": {**seen, "helpers": "other"}}), work,
                              address="tcp://s:8786", shared="the folder of s.parquet")
    assert cluster.probe(str(work / "none"), "x", [str(work / "parts"), "/no/such"])["missing"] == ["/no/such"]
    assert sorted(p.name for p in work.iterdir()) == ["parts"]  # the probe's tokens are gone


def test_out_is_assembled_row_group_by_row_group(tmp_path):
    # the client holds one row group of a part at a time: a part of 3 row groups and one of 1 make 4
    df = pd.DataFrame({"country": pd.Categorical(["SEN"] * 10), "x": range(10)})
    other = pd.DataFrame({"country": pd.Categorical(["GIN"] * 3), "x": range(3)})
    df.to_parquet(tmp_path / "a.parquet", index=False, row_group_size=4)
    other.to_parquet(tmp_path / "b.parquet", index=False)
    partitions.assemble(tmp_path / "out.parquet", [tmp_path / "a.parquet", tmp_path / "b.parquet"],
                        {"country": ["GIN", "SEN"]})
    whole = pd.concat([df, other], ignore_index=True)
    whole["country"] = pd.Categorical(whole["country"].astype(str))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), whole)
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 4
