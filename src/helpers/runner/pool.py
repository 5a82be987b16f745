"""Workers kept warm between runs of ``rss run`` (``RSS_KEEP_KERNELS``).

A run of ``rss run`` works on worker processes that each own a kernel with the
scientific stack imported (:mod:`helpers.runner`).  Starting them costs about 1.5 s
before the first notebook can begin, and importing the stack into each kernel about
2 s of CPU more.  When a run ends without an interrupt, its workers are not shut down:
each waits on a Unix socket for the next run of the same project, for
``RSS_KEEP_KERNELS`` seconds (default :data:`DEFAULT_KEEP`; ``0`` turns this off),
and exits after that, or as soon as the project folder is gone.  ``rss stop`` ends
them at once.  Meanwhile a kept worker resets its kernel (the last notebook's objects
are freed) and finishes importing the stack.

A kept worker is used only by a run whose :func:`key` equals the one it was started
with: the same project folder, Python, helpers code (every file of the package),
versions of the key packages, installed site-packages (their folders' mtimes) and
environment variables (but for a few that change between shells, :func:`environment`).
Anything else (an edited helper, ``pip install``, another ``RSS_DATA``) starts new
workers, and the run stops the obsolete ones.  A run interrupted (Ctrl-C, SIGTERM) or
refused keeps nothing.

The sockets live in a folder of the user's own (``$TMPDIR/rss-kernels-<uid>``, mode
0700, refused when anybody else could write there); one is named
``<project tag>-<key>-<pid>.sock``, and it exists only while its worker is free: the
worker removes it when a run connects.  Linux only (it needs ``os.fork`` and
``os.pidfd_open``); elsewhere every run starts its own workers, as before.

Imports: helpers.provenance.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["KEEP_ENV", "DEFAULT_KEEP", "keep_seconds", "supported", "key", "environment", "Process", "fork",
           "adopt", "stop_kept", "wait_for_run"]

KEEP_ENV = "RSS_KEEP_KERNELS"
#: Seconds a kept worker waits for the next run.
DEFAULT_KEEP = 600.0
#: Seconds between a waiting worker's checks that its project and kernel still exist.
CHECK_EVERY = 5.0
#: Environment variables that differ between shells, ``make`` and terminals without changing what a notebook
#: computes: left out of the key.
_VOLATILE = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "PS1", "PS2", "WINDOWID", "TMUX_PANE",
                       "MFLAGS", "GNUMAKEFLAGS", "JPY_PARENT_PID", KEEP_ENV})
_VOLATILE_PREFIXES = ("MAKE", "TERM", "SSH_", "PYTEST_", "XDG_SESSION", "LS_COLORS")


def keep_seconds(env: Mapping[str, str] | None = None) -> float:
    """Seconds a run's workers wait for the next run (``RSS_KEEP_KERNELS``); 0 when off or not supported.

    Raises
    ------
    ValueError
        The variable is set to something else than a number of seconds >= 0.
    """
    env = os.environ if env is None else env
    text = env.get(KEEP_ENV, "").strip()
    if not text:
        value = DEFAULT_KEEP
    else:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not (value >= 0 and value < float("inf")):
            raise ValueError(f"{KEEP_ENV}={text!r}: expected the seconds a run's kernels are kept for the next "
                             "run (a number >= 0; 0 turns keeping off)")
    return value if supported() else 0.0


def supported() -> bool:
    """Whether workers can be kept here (Linux: ``os.fork``, ``os.pidfd_open``, Unix sockets)."""
    return sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(socket, "AF_UNIX")


def _folder(*, create: bool) -> Path | None:
    """The sockets' folder, or None when it does not exist (``create=False``) or others could use it."""
    d = Path(tempfile.gettempdir()) / f"rss-kernels-{os.getuid()}"
    if create:
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)
    try:
        st = d.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return d


def _tag(root: Path) -> str:
    return hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:12]


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables that key a kept worker (all but the volatile ones)."""
    env = os.environ if env is None else env
    return {k: v for k, v in sorted(env.items()) if k not in _VOLATILE and not k.startswith(_VOLATILE_PREFIXES)}


def key(root: Path, versions: Mapping[str, str]) -> str:
    """What a kept worker must match to be used by a run (see the module notes)."""
    from ..provenance import helpers_hash

    site = {p: os.stat(p).st_mtime_ns for p in sys.path if p.endswith("-packages") and os.path.isdir(p)}
    blob = {"root": str(Path(root).resolve()), "python": sys.executable, "version": sys.version,
            "code": helpers_hash(exclude=()), "versions": dict(versions), "site": site, "env": environment()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def _socket_path(root: Path, k: str, pid: int) -> Path | None:
    d = _folder(create=True)
    return None if d is None else d / f"{_tag(root)}-{k}-{pid}.sock"


# ---------------------------------------------------------------------------------------------------------------
# worker processes


class Process:
    """A worker process known by its pid: the part of ``multiprocessing.Process`` the runner uses.

    ``child``: forked by this process (its exit code is known); otherwise adopted from
    an earlier run (``exitcode`` stays None).  ``sentinel`` is a pidfd, readable once
    the process has ended, so that the runner can wait on it with its pipes.
    """

    def __init__(self, pid: int, *, child: bool):
        self.pid, self.child = pid, child
        self.exitcode: int | None = None
        self._ended = False
        self.sentinel = os.pidfd_open(pid)

    def is_alive(self) -> bool:
        if self._ended:
            return False
        if self.child:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid == 0:
                    return True
                self.exitcode = os.waitstatus_to_exitcode(status)
        elif not select.select([self.sentinel], [], [], 0)[0]:
            return True
        self._ended = True
        with contextlib.suppress(OSError):
            os.close(self.sentinel)
        return False

    def join(self, timeout: float | None = None) -> None:
        if self.is_alive():
            select.select([self.sentinel], [], [], timeout)
            self.is_alive()

    def kill(self) -> None:
        """SIGKILL, through the pidfd: never another process that took the pid of one that ended."""
        if self._ended:
            return
        import signal

        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.sentinel, signal.SIGKILL)

    def release(self) -> None:
        """Forget the process without waiting for it (it lives on, kept for the next run)."""
        if not self._ended:
            self._ended = True
            with contextlib.suppress(OSError):
                os.close(self.sentinel)


def fork(target: Callable[..., None], *args: Any, keep_fds: tuple[int, ...] = ()) -> Process:
    """Run ``target(*args)`` in a forked process of its own session, holding no file of this one.

    The child closes every inherited descriptor but ``keep_fds`` (the run's lock, the
    caller's pipes: a kept worker must not hold them after this process ended) and
    reads stdin from /dev/null; it ends with ``os._exit`` (no atexit handler of the
    parent runs in it).
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (measured by the tests of the runner)
        code = 1
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            keep = {0, 1, 2, devnull, *keep_fds}
            for name in os.listdir("/proc/self/fd"):
                if int(name) not in keep:
                    with contextlib.suppress(OSError):
                        os.close(int(name))
            target(*args)
            code = 0
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    return Process(pid, child=True)


# ---------------------------------------------------------------------------------------------------------------
# the worker's side: wait for the next run


def _connection(sock: socket.socket) -> Any:
    from multiprocessing.connection import Connection

    return Connection(sock.detach())


def _unlink_if(path: Path, ino: int) -> None:
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == ino:
            os.unlink(path)


def listen(root: Path, k: str, pid: int) -> dict[str, Any] | None:
    """In the runner, when its run ends: the socket a kept worker will wait on, bound and listening.

    The runner makes it (rather than the worker, which may still be busy importing) so
    that it exists before the runner exits: a run or ``rss stop`` right after finds it.
    Returns ``{"socket", "path", "ino"}``, or None when the sockets' folder is not safe.
    """
    path = _socket_path(Path(root), k, pid)
    if path is None:
        return None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    listener.bind(str(tmp))
    listener.listen(8)
    os.rename(tmp, path)  # complete before it can be found
    return {"socket": listener, "path": str(path), "ino": os.stat(path).st_ino}


def wait_for_run(listener: socket.socket, order: Mapping[str, Any], k: str, root: str, *,
                 alive: Callable[[], bool], tidy: Callable[[Callable[[], bool]], None]) -> tuple[Any, str] | None:
    """In a worker whose run has ended: wait on ``listener`` for the next run; return its connection and log.

    ``order`` is the runner's ``{"keep": seconds, "path", "ino"}`` (:func:`listen`).
    While nobody connects, ``tidy(idle)`` resets and warms the kernel.  None when the
    time is up, the project folder or the kernel is gone, or the run that connected
    says stop (an obsolete worker, ``rss stop``).
    """
    path, ino = Path(order["path"]), int(order["ino"])
    deadline = time.monotonic() + float(order["keep"])
    try:
        tidy(lambda: not select.select([listener], [], [], 0)[0])
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not os.path.isdir(root) or not alive():
                return None
            if not select.select([listener], [], [], min(left, CHECK_EVERY))[0]:
                continue
            sock, _ = listener.accept()
            _unlink_if(path, ino)  # taken: no other run finds it
            conn = _connection(sock)
            try:
                conn.send({"pid": os.getpid(), "key": k})
                reply = conn.recv() if conn.poll(10) else None
            except (EOFError, OSError):
                reply = None
            if not reply:
                conn.close()
                return None
            return conn, str(reply["log"])
    finally:
        _unlink_if(path, ino)
        listener.close()


# ---------------------------------------------------------------------------------------------------------------
# the runner's side


def _sockets(root: Path) -> list[Path]:
    d = _folder(create=False)
    return sorted(d.glob(f"{_tag(root)}-*.sock")) if d is not None else []


def _hello(path: Path) -> tuple[Any, dict[str, Any]] | None:
    """Connect to a kept worker; its connection and greeting, or None (a socket left by a dead one is removed)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2.0)
    try:
        s.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        s.close()
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    except OSError:
        s.close()
        return None
    s.settimeout(None)
    conn = _connection(s)
    try:
        hello = conn.recv() if conn.poll(20) else None  # a worker may be finishing an import first
    except (EOFError, OSError):
        hello = None
    if not isinstance(hello, dict):
        conn.close()
        return None
    return conn, hello


def adopt(root: Path, k: str, n: int) -> list[tuple[Any, Process]]:
    """Take up to ``n`` kept workers of this project with key ``k``; stop those with another key.

    Each is returned with its connection, still waiting for the runner's reply
    (``{"log": path}``, which the runner sends when it numbers its workers).
    """
    taken: list[tuple[Any, Process]] = []
    for path in _sockets(root):
        if len(taken) >= n and f"-{k}-" in path.name:
            continue  # a free worker of this key left for later
        got = _hello(path)
        if got is None:
            continue
        conn, hello = got
        proc = None
        if hello.get("key") == k and len(taken) < n:
            with contextlib.suppress(OSError):
                proc = Process(int(hello["pid"]), child=False)
        if proc is None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
            continue
        taken.append((conn, proc))
    return taken


def stop_kept(root: Path, *, wait: float | None = 10.0) -> int:
    """Stop every kept worker of the project at ``root`` (``rss stop``); return how many there were.

    Each is told to stop and given ``wait`` seconds in all to end, then killed; with
    ``wait=None`` they end on their own, not waited for.
    """
    procs = []
    for path in _sockets(root):
        got = _hello(path)
        if got is None:
            continue
        conn, hello = got
        with contextlib.suppress(OSError):
            conn.send(None)
        conn.close()
        with contextlib.suppress(OSError, KeyError, ValueError, TypeError):
            procs.append(Process(int(hello["pid"]), child=False))
    if wait is None:
        for p in procs:
            p.release()
        return len(procs)
    deadline = time.monotonic() + wait
    for p in procs:
        p.join(max(deadline - time.monotonic(), 0.0))
        if p.is_alive():
            p.kill()
            p.release()
    return len(procs)
