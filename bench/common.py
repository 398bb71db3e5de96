"""What the benchmarks share: settings of a run, timed commands, the server under test, statistics.

Every benchmark compares against a baseline measured in the same run, on the same machine, with
the same HTTP client. Services are loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
VENV_BIN = REPO / ".venv" / "bin"
TTDN = str(VENV_BIN / "ttdn")
CORPUS = OUT / "corpus.ndjson"

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:25432")
ES_URL = os.environ.get("BENCH_ES_URL", "http://127.0.0.1:29200")
# Our own database and alias: never the test suite's (ttdn_test, ttdn-test-*).
# Overridable so that two benchmark runs on one PostgreSQL / Elasticsearch do not collide.
BENCH_DB = os.environ.get("BENCH_DB", "ttdn_bench")
BENCH_ALIAS = os.environ.get("BENCH_ALIAS", "ttdn-bench")
BASELINE_INDEX = f"{BENCH_ALIAS}-raw-bulk"
WARM_UP_INDEX = f"{BENCH_ALIAS}-warm-up"
STAFF_EMAIL = "bench-staff@ttdn.local"
STAFF_PASSWORD = "Bench-only password 7f3c9a, never reused"
SECRET_KEY = "bench-secret-key-" + "x" * 32


@dataclass
class Measure:
    """One line of results.json, with what RESULTS.md says about it."""

    name: str
    value: float
    unit: str
    baseline: float
    ratio: float
    goal: str
    met: bool
    command: str
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def pg_env(data_dir: Path) -> dict[str, str]:
    """The environment of a `ttdn` command on PostgreSQL + Elasticsearch (the bench database)."""
    return _app_env(
        data_dir,
        DATABASE_URL=f"{PG_ADMIN_URL}/{BENCH_DB}",
        ELASTICSEARCH_URL=ES_URL,
        ELASTICSEARCH_INDEX=BENCH_ALIAS,
    )


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """The embedded default: a SQLite file in DATA_DIR and the database search backend."""
    return _app_env(data_dir)


def _app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ELASTICSEARCH_URL")}
    env.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY=SECRET_KEY,
        APP_ENV="development",
        # The server's background threads would compete with the measured requests.
        INDEXER_INTERVAL_SECONDS="0",
        FEED_RELEASE_INTERVAL_SECONDS="0",
        TTDN_PASSWORD=STAFF_PASSWORD,
        **extra,
    )
    return env


def run(cmd: Sequence[str], env: Mapping[str, str], *, quiet: bool = True) -> float:
    """Run a command to completion; returns its wall-clock seconds. Fails loudly on non-zero exit."""
    log("$ " + shell_line(cmd))
    started = time.perf_counter()
    result = subprocess.run(cmd, env=dict(env), cwd=REPO, capture_output=quiet, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        detail = (result.stderr or "")[-3000:] if quiet else ""
        raise RuntimeError(f"{shell_line(cmd)} exited {result.returncode}\n{detail}")
    return seconds


def shell_line(cmd: Sequence[str]) -> str:
    return " ".join(shlex.quote(str(part).replace(str(REPO) + "/", "")) for part in cmd)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MemorySampler:
    """Samples a process's VmRSS every `interval` s; `peak_mb()` is the larger of that and VmHWM."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss_kb = 0
        self.hwm_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join(5)

    def sample(self) -> None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name == "VmRSS":
                self.peak_rss_kb = max(self.peak_rss_kb, int(rest.split()[0]))
            elif name == "VmHWM":
                self.hwm_kb = max(self.hwm_kb, int(rest.split()[0]))

    def peak_mb(self) -> float:
        return max(self.peak_rss_kb, self.hwm_kb) / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    memory: MemorySampler
    startup_mb: float  # resident memory once /healthz first answered


@contextmanager
def serve(env: Mapping[str, str], startup_timeout: float = 60.0, workers: int = 1) -> Iterator[Server]:
    """`ttdn serve` as a subprocess on a free loopback port, its memory sampled; stopped after.
    One worker unless asked (the memory figures are those of one process)."""
    port = free_port()
    cmd = [TTDN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log("$ " + shell_line(cmd) + " &")
    OUT.mkdir(parents=True, exist_ok=True)  # a fresh clone has no bench/out yet
    logfile = (OUT / f"server-{port}.log").open("w")
    process = subprocess.Popen(cmd, env=dict(env), cwd=REPO, stdout=logfile, stderr=subprocess.STDOUT)
    memory = MemorySampler(process.pid)
    memory.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, startup_timeout)
        memory.sample()
        yield Server(base_url, process, memory, memory.peak_rss_kb / 1024)
    finally:
        memory.stop()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        logfile.close()


def _wait_healthy(base_url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see bench/out/server-*.log")
        try:
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout} s")


def staff_token(client: httpx.Client, base_url: str) -> str:
    response = client.post(base_url + "/api/v1/auth/token", data={"username": STAFF_EMAIL, "password": STAFF_PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "elasticsearch": _es_version(),
        "postgresql": _pg_version(),
    }


def _es_version() -> str:
    try:
        info = httpx.get(ES_URL + "/_nodes/_local/jvm", timeout=5).json()
        node = next(iter(info["nodes"].values()))
        return f"{node['version']} (heap {node['jvm']['mem']['heap_max_in_bytes'] // 2**20} MB)"
    except (httpx.HTTPError, KeyError, StopIteration, ValueError):
        return "unknown"


def _pg_version() -> str:
    result = subprocess.run(
        ["psql", PG_ADMIN_URL + "/postgres", "-Atc", "show server_version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run_clients(clients: int, loop: Callable[[int], None], join_within: float) -> float:
    """Run `loop(slot)` on `clients` threads at once; returns the wall time until all ended."""
    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_within)
    return time.monotonic() - started
