"""Running a fake's ``python -m`` entry in a subprocess for the length of a ``with`` block."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any, Mapping, Sequence

from .control import ControlClient


class FakeProcess:
    """Start ``python -m MODULE --port 0``, read the URL it prints first, stop it afterwards.

    Subclasses name the ``MODULE``, the fake (``NAME``, for errors) and the ``control_class``
    that ``control`` is made of.

    Parameters
    ----------
    args:
        Extra command-line options.
    startup_timeout:
        Seconds to wait for the server to print its URL.
    env:
        The subprocess's environment (default: this one's).
    """

    MODULE = ""
    NAME = "fake server"
    control_class: type[ControlClient] = ControlClient

    def __init__(self, args: Sequence[str] = (), *, startup_timeout: float = 90.0, env: Mapping[str, str] | None = None):
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.control: Any = None

    def start(self) -> Any:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen([sys.executable, "-m", self.MODULE, "--port", "0", *self.args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line: list[str] = []
        # a thread, so a server that never prints cannot hold start() past the timeout
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        url = line[0].strip() if line else ""
        if not url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the {self.NAME} did not start: {url or 'no URL printed'}")
        self.base_url = url
        self.control = self.control_class(url)
        return self

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["FakeProcess"]
