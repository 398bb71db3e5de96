"""`python -m app.server`: uvicorn with the service's options; `ttdn serve` execs into it.

A module of its own that imports nothing of the application: uvicorn starts each worker as a
fresh interpreter that re-imports the module it was started from, so a worker started from here
imports uvicorn and the application (app.main) and nothing else. Started from the `ttdn`
command, every worker also imported the whole command line (Typer, Rich, importers, backups):
about half as much again, paid by every worker at once on start-up.
"""

import argparse
import ctypes
import os
import signal
import sys

import uvicorn

PR_SET_PDEATHSIG = 1


def follow_the_supervisor() -> None:
    """In a worker: ask Linux for SIGTERM when the supervisor dies. Otherwise a supervisor killed
    with SIGKILL (the OOM killer, `kill -9`) leaves its workers serving on the port, unsupervised."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_config=None,
        access_log=False,
        # A new worker imports the whole app before it answers; on a busy machine that can take
        # longer than uvicorn's 5 s, and the worker would be killed and restarted.
        timeout_worker_healthcheck=60,
    )


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__":  # a worker that uvicorn spawned from this module
    follow_the_supervisor()
