"""The CPU cores this process may use: the default worker count of `ttdn serve`, and whether the
embedded search backend splits one search over two threads."""

import os
from pathlib import Path

# Linux's load figures: the fourth field is "running tasks/all tasks".
LOADAVG = Path("/proc/loadavg")


def cpu_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def idle_cores() -> int | None:
    """Cores that no task is running on at this instant, as far as Linux tells (None elsewhere).

    From the count of running tasks in /proc/loadavg (which counts the caller too), against the
    cores this process may use. The count is the whole machine's: other processes (the other
    workers, the database) count, which is the point. Where the kernel's count covers more than
    this process's cores (a container pinned to a few of a host's), it only ever says fewer.
    """
    try:
        running = int(LOADAVG.read_bytes().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, cpu_cores() - running)
