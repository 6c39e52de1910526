"""What the benchmarks share: a working directory, and running a ``leverage`` command as a
child process with its wall time, CPU time, exit status, peak memory, stdout and stderr.

The child runs under a small Python wrapper that reports its wall time and
``getrusage(RUSAGE_CHILDREN)``. Measuring from the benchmark's own process would be wrong: on
Linux a child's ``ru_maxrss`` starts from the RSS of the process it was forked (vforked) from,
so after an in-process measurement every child would show that process's peak.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: the exit status of a child stopped by its ``timeout``
TIMED_OUT = 124

_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "limit = float(sys.argv[2]) or None\n"
    "t0 = time.perf_counter()\n"
    "child = subprocess.Popen(sys.argv[3:])\n"
    "try:\n"
    "    rc = child.wait(timeout=limit)\n"
    "except subprocess.TimeoutExpired:\n"
    "    child.kill()\n"
    "    child.wait()\n"
    f"    rc = {TIMED_OUT}\n"
    "t = time.perf_counter() - t0\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "with open(sys.argv[1], 'w') as fh:\n"
    "    fh.write(f'{rc} {t!r} {u.ru_utime + u.ru_stime!r} {u.ru_maxrss}')\n"
)


@contextmanager
def work_dir(keep: str | os.PathLike[str] | None, prefix: str) -> Iterator[Path]:
    """``keep`` (its old databases removed), kept afterwards; else a temporary directory."""
    if keep:
        work = Path(keep)
        work.mkdir(parents=True, exist_ok=True)
        for old in work.glob("*.db*"):
            old.unlink()
        yield work
        print(f"\nfiles kept in {work}")
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def leverage_cmd() -> list[str]:
    """The ``leverage`` console script of this Python, else on ``PATH``, else the module."""
    exe = Path(sys.executable).with_name("leverage")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("leverage")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from leverage.cli import cli; sys.exit(cli())"]


class Run:
    """What :func:`run` measured."""

    def __init__(self, seconds: float, cpu: float, rc: int, peak_mb: float, out: str, err: str):
        self.seconds, self.cpu, self.rc, self.peak_mb, self.out, self.err = seconds, cpu, rc, peak_mb, out, err

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def error_line(self) -> str:
        if self.rc == TIMED_OUT:
            return f"stopped after the --timeout of {self.seconds:.0f} s"
        lines = [x for x in self.err.strip().splitlines() if x.strip()]
        return lines[-1] if lines else f"exit status {self.rc}"


def run(argv: list[str], *, quiet: bool = False, timeout: float = 0,
        stdout: Path | None = None) -> Run:
    """Run a child (actor ``bench``): ``quiet`` drops its stdout, ``stdout`` writes it to a
    file, ``timeout`` (seconds; 0: none) stops it."""
    env = dict(os.environ, LEVERAGE_ACTOR="bench")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rusage") as report:
        target = open(stdout, "wb") if stdout else subprocess.DEVNULL if quiet else out
        try:
            subprocess.run([sys.executable, "-c", _WRAPPER, report.name, str(timeout), *argv],
                           env=env, stdout=target, stderr=err, check=False)
        finally:
            if stdout:
                target.close()
        with open(report.name) as fh:
            fields = fh.read().split()
        err.seek(0)
        if len(fields) != 4:  # the wrapper itself failed (no such command, ...)
            return Run(0.0, 0.0, 127, 0.0, "", err.read().decode(errors="replace"))
        rc_s, seconds_s, cpu_s, maxrss_s = fields
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes there, KiB here
        out.seek(0)
        return Run(float(seconds_s), float(cpu_s), int(rc_s), int(maxrss_s) / scale,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))
