"""A background thread that does one unit of work, waits, and does it again until stopped."""

import threading
from abc import ABC, abstractmethod


class PeriodicWorker(ABC):
    """Subclasses implement `tick()`, which does one pass and returns the seconds to wait.

    An interval of 0 or less means the worker never starts (tests drive `tick()` by hand).
    """

    def __init__(self, name: str, interval: float) -> None:
        self._name = name
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def tick(self) -> float:
        """One pass; returns how many seconds to wait before the next."""

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._stopping.wait(self.tick())
