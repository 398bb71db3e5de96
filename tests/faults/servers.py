"""Real servers for the fault tests: Elasticsearch nodes from scripts/es-node.sh, scratch
PostgreSQL databases, and `ttdn serve` as a process of its own.

Ports: TEST_ES_NODE_PORT_BASE (24200) and up, below the ephemeral range so a restarted node
finds its port free: +0 the disposable node, +10 the secured node, +20/+21 the cluster
(transport ports are HTTP + 100), +40 the TLS PostgreSQL, +41 PgBouncer; all within 200 ports.
TEST_SERVE_PORT_BASE (24080) for `ttdn serve` (+0 in the sqlite run, +1 in postgres-es).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app import migrate
from app.accounts import security
from app.accounts.models import User
from app.db import build_engine, build_session_factory
from app.taxonomy import seed as taxonomy_seed

REPO = Path(__file__).resolve().parents[2]
ES_NODE = REPO / "scripts" / "es-node.sh"
PORT_BASE = int(os.environ.get("TEST_ES_NODE_PORT_BASE", "24200"))
SERVE_PORT_BASE = int(os.environ.get("TEST_SERVE_PORT_BASE", "24080"))
SECRET_KEY = "fault-test-secret-key-long-enough-0123456789"


@dataclass
class EsNode:
    """One node started by scripts/es-node.sh; stop() and start() keep its data."""

    name: str
    port: int
    options: list[str] = field(default_factory=list)
    url: str = ""

    def start(self, *, fresh: bool = False) -> str:
        args = ["bash", str(ES_NODE), "start", self.name, "--port", str(self.port), *self.options]
        if fresh:
            args.append("--fresh")
        # Generous: a node may boot while the rest of the suite keeps both cores busy.
        env = {**os.environ, "ES_START_TIMEOUT": "300"}
        done = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"es-node.sh start {self.name} failed:\n{done.stderr[-3000:]}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run(["bash", str(ES_NODE), "stop", self.name], capture_output=True, timeout=120, check=True)

    def pid(self) -> int:
        out = subprocess.run(["bash", str(ES_NODE), "pid", self.name], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip())

    @property
    def root(self) -> Path:
        return REPO / ".cache" / f"es-node-{self.name}"

    def service_env(self) -> dict[str, str]:
        """What the secured node's script wrote for the service (URL, API key, CA, password)."""
        lines = (self.root / "service.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


class NodeStarter:
    """Starts Elasticsearch nodes one after another (fresh) in a background thread, so that they
    boot while the rest of the suite runs; a fixture then waits only for what is still missing.
    One at a time: parallel JVM start-ups on two cores would only slow each other down."""

    def __init__(self) -> None:
        self.nodes: list[EsNode] = []
        self.done: dict[str, threading.Event] = {}
        self.errors: dict[str, BaseException] = {}
        self.threads: list[threading.Thread] = []

    def start_all(self, nodes: list[EsNode]) -> None:
        nodes = [node for node in nodes if node.name not in self.done]
        for node in nodes:
            self.nodes.append(node)
            self.done[node.name] = threading.Event()
        thread = threading.Thread(target=self._run, args=(nodes,), name="es-node-starter", daemon=True)
        self.threads.append(thread)
        thread.start()

    def _run(self, nodes: list[EsNode]) -> None:
        for node in nodes:
            try:
                node.start(fresh=True)
            except BaseException as exc:  # handed to the fixture that waits for this node
                self.errors[node.name] = exc
            finally:
                self.done[node.name].set()

    def ready(self, node: EsNode) -> EsNode:
        """The node, once started (here and now if nothing queued it)."""
        self.start_all([node])
        self.done[node.name].wait()
        if node.name in self.errors:
            raise self.errors[node.name]
        return node

    def stop_all(self) -> None:
        """Stop every node queued, after any start still under way has finished; all at once,
        since each stop is mostly waiting for a JVM to exit."""
        for thread in self.threads:
            thread.join()
        stoppers = [threading.Thread(target=node.stop, name=f"stop-{node.name}") for node in self.nodes]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self.nodes.clear()


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """The process hangs (SIGSTOP) inside the block, and always resumes (SIGCONT) after it."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def prepare_database(engine: Engine) -> None:
    """Schema by Alembic and the reference data, as `ttdn migrate` and `ttdn seed` would."""
    migrate.upgrade(engine)
    with build_session_factory(engine)() as session:
        taxonomy_seed.load_reference(session)
        session.commit()


class ScratchPostgres:
    """Databases next to the test database: one template migrated once, then a copy per test."""

    def __init__(self, test_url: str) -> None:
        self.base = make_url(test_url)
        self.template = f"{self.base.database}_faults_tmpl"
        admin_url = self.base.set(database="postgres").render_as_string(hide_password=False)
        self.admin = build_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def make_template(self) -> None:
        self._drop(self.template)
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = build_engine(self.url(self.template))
        prepare_database(engine)
        engine.dispose()

    def new_database(self) -> str:
        name = f"{self.base.database}_f{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.made.append(name)
        return self.url(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in [*self.made, self.template]:
            self._drop(name)
        self.admin.dispose()


def add_editor(engine: Engine) -> dict[str, str]:
    """An editor in the scratch database, and headers with a token for it (SECRET_KEY above)."""
    with build_session_factory(engine)() as session:
        user = User(email=f"ed-{uuid.uuid4().hex[:6]}@example.test", password_hash="!", roles=["editor"])
        session.add(user)
        session.commit()
        token, _ = security.issue_access_token(user.id, SECRET_KEY, 60)
    return {"Authorization": f"Bearer {token}"}


class ServeProcess:
    """`ttdn serve` in a process of its own, on loopback, with the given environment."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = {**os.environ, **env, "SECRET_KEY": SECRET_KEY, "PORT": str(port), "HOST": "127.0.0.1"}
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: the workers go with it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ttdn serve exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("ttdn serve did not answer /healthz in time")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the supervisor and every worker): no shutdown hook
        runs, as in a power cut or the OOM killer, and no worker is left holding the port."""
        if self.process:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class TlsPostgres:
    """A throwaway PostgreSQL cluster with TLS on, a self-signed certificate for 127.0.0.1,
    run as the `postgres` OS user from the machine's PostgreSQL binaries."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.cert = root / "data" / "server.crt"
        bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bindirs:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bindir = bindirs[-1]

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        subprocess.run(["chown", "postgres:", str(self.root)], check=True)
        self._as_postgres(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")
        self._as_postgres(
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(self.data / "server.key"), "-out", str(self.cert),
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nssl = on\n")
            conf.write(f"unix_socket_directories = '{self.root}'\n")
        # Only TLS connections are let in over TCP.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
        )
        self._as_postgres(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "start"
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PgBouncer:
    """PgBouncer (the Debian package) in transaction mode in front of the test PostgreSQL,
    run as the `postgres` OS user (it refuses root)."""

    def __init__(self, root: Path, port: int, upstream_url: str) -> None:
        self.root = root
        self.port = port
        self.upstream = make_url(upstream_url)

    def url(self, database: str) -> str:
        return self.upstream.set(port=self.port, host="127.0.0.1", database=database).render_as_string(
            hide_password=False
        )

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        (self.root / "users.txt").write_text(f'"{self.upstream.username}" ""\n')
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={self.upstream.host} port={self.upstream.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            "auth_type = trust\nauth_file = users.txt\npool_mode = transaction\n"
            "default_pool_size = 4\nmax_client_conn = 200\n"
            "logfile = pgbouncer.log\npidfile = pgbouncer.pid\n"
        )
        subprocess.run(["chown", "-R", "postgres:", str(self.root)], check=True)
        subprocess.run(
            ["runuser", "-u", "postgres", "--", binary, "-d", str(self.root / "pgbouncer.ini")],
            cwd=self.root, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (self.root / "pgbouncer.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        pid_file = self.root / "pgbouncer.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGINT)  # immediate shutdown
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
