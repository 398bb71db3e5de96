"""The version read of a search (`app.search.service._current_versions`) against what it
replaced, in one process, on the data a `bench.search_only --keep` run left:

    BENCH_DB=ttdn_bench_search .venv/bin/python -m bench.search_version_read [--rounds 400]

Each round opens a session, reads the current versions of 20 materials and ends the reading
transaction, as a search does. Compared: the ORM statement built per search with a parameter per
id (pool checkout with its ping, BEGIN, the statement, COMMIT); the statement built once, in the
session's transaction (the same round trips); `_current_versions` as it is now (`read_alone`: a
pooled connection in autocommit, the ping and the statement). They alternate round by round, in
three blocks; printed: wall p50 and the thread's mean CPU time per round. Timings are printed
only, never written to results.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from sqlalchemy import select

from app.db import build_engine, build_session_factory, end_reading
from app.materials.models import Material
from app.search.service import _current_versions, _versions_statement
from bench.common import BENCH_DB, PG_ADMIN_URL


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    engine = build_engine(f"{PG_ADMIN_URL}/{BENCH_DB}")
    factory = build_session_factory(engine)
    with factory() as session:
        ids = list(session.scalars(select(Material.id).limit(20)))

    def orm_in(session) -> dict:  # what _shown_documents ran before
        return dict(session.execute(select(Material.id, Material.version).where(Material.id.in_(ids))).all())

    def in_transaction(session) -> dict:  # the statement built once, before read_alone
        statement = _versions_statement(session.get_bind().dialect.name)
        return dict(session.connection().execute(statement, {"ids": [str(i) for i in ids]}).all())

    def current(session) -> dict:
        return _current_versions(session, ids)

    def timed(read: Callable) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.thread_time()
        with factory() as session:
            assert len(read(session)) == len(ids)
            end_reading(session)
        return time.perf_counter() - wall, time.thread_time() - cpu

    reads = {
        "ORM statement, IN with a parameter per id": orm_in,
        "built once, in the session's transaction": in_transaction,
        "_current_versions (read_alone)": current,
    }
    for _ in range(3):
        # Alternated round by round: the machine's speed drifts over minutes, not between two rounds.
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in reads}
        for _ in range(args.rounds):
            for name, read in reads.items():
                rounds[name].append(timed(read))
        for name, timings in rounds.items():
            print(
                f"{name}: wall p50 {statistics.median(t[0] for t in timings) * 1e3:.3f} ms, "
                f"CPU mean {statistics.mean(t[1] for t in timings) * 1e3:.3f} ms"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
