"""Where a command's CPU goes: its own, Elasticsearch's and PostgreSQL's, second by second.

    .venv/bin/python -m bench.cpu_timeline [--every 1] -- .venv/bin/ttdn import FILE

Runs the command (its output discarded) and reads user + system CPU time from /proc for the
command, the Elasticsearch process and every PostgreSQL process, once per `--every` seconds
while it runs. Prints the totals, how many cores they kept busy on average, and the timeline:
on a machine with two cores, the seconds that add up to well under 2 are where work waits on
work instead of overlapping. Linux only; a tool for finding causes, not one of the goals.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
WHO = ("command", "elasticsearch", "postgresql")
ELASTICSEARCH = "org.elasticsearch.bootstrap"


def _pids(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in found.split()]


def _ticks(stat: Path, fields: slice) -> int:
    """The sum of `fields` (after the command name) of a /proc stat file; 0 if it is gone."""
    try:
        values = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0
    return sum(int(value) for value in values[fields])


def _cpu_seconds(pids: list[int]) -> float:
    """User + system time of `pids` and of their children that ended."""
    return sum(_ticks(Path(f"/proc/{pid}/stat"), slice(11, 15)) for pid in pids) / TICKS


def jit_compiler_seconds() -> float | None:
    """User + system time so far of the local Elasticsearch JVM's JIT compiler threads (None if
    there is no such process on this machine, or /proc cannot be read)."""
    found = _pids(ELASTICSEARCH)
    if not found:
        return None
    ticks = 0
    try:
        for task in Path(f"/proc/{found[0]}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                if (task / "comm").read_text().startswith(("C1 CompilerThre", "C2 CompilerThre")):
                    ticks += _ticks(task / "stat", slice(11, 13))
    except OSError:
        return None
    return ticks / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    elasticsearch = _pids(ELASTICSEARCH)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()

    def sample() -> tuple[float, ...]:
        return (_cpu_seconds([process.pid]), _cpu_seconds(elasticsearch), _cpu_seconds(_pids("postgres")))

    last, rows = sample(), []
    while process.poll() is None:
        time.sleep(args.every)
        now = sample()
        rows.append(tuple(b - a for a, b in zip(last, now, strict=True)))
        last = now
    wall = time.monotonic() - started
    totals = [sum(row[i] for row in rows) for i in range(len(WHO))]
    spent = ", ".join(f"{name} {value:.1f}" for name, value in zip(WHO, totals, strict=True))
    print(f"exit {process.returncode}, wall {wall:.1f} s; CPU s: {spent}; {sum(totals) / wall:.2f} cores busy")
    for number, row in enumerate(rows, start=1):
        cells = " ".join(f"{name} {value:5.2f}" for name, value in zip(WHO, row, strict=True))
        print(f"{number * args.every:6.1f} s  {cells}  sum {sum(row):5.2f}")


if __name__ == "__main__":
    main()
