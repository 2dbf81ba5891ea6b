"""SUPERVISE (``dprk-kg serve --supervise``): a supervisor that starts the serving process again when it dies, run as a
fresh interpreter importing only a few built-in modules (os, _signal, sys, time), because the whole tree's memory
target has no room for a second copy of the app."""

from __future__ import annotations

import _signal as signal  # the C module behind ``signal``, without the enum module that costs this process ~1 MB
import os
import sys
import time
from collections.abc import Callable

#: Environment variable naming the file descriptor on which the child says it is serving.
READY_FD_ENV = "DPRK_KG_SUPERVISOR_READY_FD"
#: Seconds between a child's death and its next start.
RESTART_PAUSE = 1.0
#: Starts in a row that end before the child was ready, after which the supervisor gives up.
FAILED_STARTS_LIMIT = 3
#: Signals that stop the supervisor: each is passed on to the child.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: The byte the child writes when it is serving.
READY = b"1"


def exec_supervisor(child: list[str], json_lines: bool = False) -> None:
    """Replace this process by the supervisor of ``child`` (a command line, its first item an absolute path); never
    returns. ``json_lines``: the supervisor's own log lines are JSON objects (LOG_FORMAT=json)."""
    command = [sys.executable, "-I", "-S", os.path.abspath(__file__), *(["--json"] if json_lines else []), "--",
               *child]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # noqa: S606 (no shell: an argument list)


def ready_notifier() -> Callable[[], None] | None:
    """In a supervised child: a function to call once the server is serving (it tells the supervisor, once); outside
    one, None.

    Called before anything else is started: the variable is removed and the descriptor made non-inheritable here, so
    the store worker neither sees nor holds them (the supervisor reads the end of the pipe as "died before ready").
    """
    value = os.environ.pop(READY_FD_ENV, None)
    if not value or not value.isdigit():
        return None
    fd = int(value)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        return None

    def notify() -> None:
        nonlocal fd
        if fd < 0:
            return
        try:
            os.write(fd, READY)
            os.close(fd)
        except OSError:
            pass
        fd = -1

    return notify


def _json_string(text: str) -> str:
    """``text`` as a JSON string, written here: importing the json module would grow this process for four fields."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped) + '"'


class Supervisor:
    """Runs one command as a child and starts it again when it dies.

    How it works: ``dprk-kg serve --supervise`` checks its options, then replaces itself (:func:`exec_supervisor`)
    by ``python -I -S <this file> -- python -m service serve <the same options> --no-supervise``. The supervisor
    starts that command as its child, with the write end of a pipe named in :data:`READY_FD_ENV`; the child writes
    one byte there once it is serving (:func:`ready_notifier`). A child that dies (killed by a signal we did not
    send, or a non-zero exit) is started again after :data:`RESTART_PAUSE`; one that dies before it was ready
    :data:`FAILED_STARTS_LIMIT` times in a row is a configuration the server refuses, and the supervisor gives up
    with exit status 1. SIGTERM and SIGINT are passed to the child, which stops gracefully; the supervisor then
    exits 0, as it does when the child exits 0 on its own.
    """

    def __init__(self, command: list[str], json_lines: bool = False) -> None:
        self.command = command
        self.json_lines = json_lines
        self.child = 0
        self.stopping = False

    def log(self, level: str, message: str) -> None:
        """One line on standard error, in the service's log format (``dprk_kg.supervisor``)."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now % 1 * 1000):03d}"
        if self.json_lines:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
            line = (f'{{"time": "{iso}", "level": "{level}", "logger": "dprk_kg.supervisor", '
                    f'"message": {_json_string(message)}}}')
        else:
            line = f"{stamp} dprk_kg.supervisor {level} {message}"
        os.write(2, (line + "\n").encode("utf-8", "replace"))

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True
        if self.child:
            try:
                os.kill(self.child, signum)
            except ProcessLookupError:
                pass

    def _run_child(self) -> tuple[bool, int]:
        """Start the child, wait until it ends: whether it was ready first, and its exit code (-N: signal N)."""
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        env = dict(os.environ)
        env[READY_FD_ENV] = str(write_end)
        try:
            # Signals this interpreter ignores stay ignored across exec; the child gets them back at their default.
            self.child = os.posix_spawn(self.command[0], self.command, env,
                                        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        finally:
            os.close(write_end)
        if self.stopping:  # a stop signal came while it was being started
            os.kill(self.child, signal.SIGTERM)
        self.log("INFO", f"started the server, pid {self.child}")
        try:
            ready = os.read(read_end, 1) == READY  # empty: it ended without saying so
        finally:
            os.close(read_end)
        _, status = os.waitpid(self.child, 0)
        self.child = 0
        return ready, os.waitstatus_to_exitcode(status)

    def run(self) -> int:
        """Supervise until stopped (0) or until the child keeps dying before it is ready (1)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        failed_starts = 0
        while not self.stopping:
            ready, code = self._run_child()
            if self.stopping:
                return 0
            if code == 0:
                self.log("INFO", "the server stopped on its own (exit status 0); the supervisor stops too")
                return 0
            how = (f"was killed by signal {-code} ({signal.strsignal(-code)})" if code < 0
                   else f"exited with status {code}")
            failed_starts = 0 if ready else failed_starts + 1
            if failed_starts >= FAILED_STARTS_LIMIT:
                self.log("ERROR", f"the server {how} before it was ready, {failed_starts} starts in a row; giving up "
                                  "(its own messages above say why: starting it again does not mend its configuration)")
                return 1
            self.log("ERROR", f"the server {how}{'' if ready else ' before it was ready'}; "
                              f"starting it again in {RESTART_PAUSE:g} s")
            time.sleep(RESTART_PAUSE)
        return 0


def main(argv: list[str]) -> int:
    """``supervisor.py [--json] -- COMMAND...``."""
    json_lines = argv[:1] == ["--json"]
    rest = argv[1:] if json_lines else argv
    if rest[:1] != ["--"] or len(rest) < 2:
        os.write(2, b"usage: supervisor.py [--json] -- COMMAND...\n")
        return 2
    return Supervisor(rest[1:], json_lines).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
