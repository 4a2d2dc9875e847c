"""Throwaway servers for the scaled-out shape, on loopback in temp dirs: PostgreSQL, a Chroma
server and Redis. The tests and `aisle eval reliability --stack postgres` start them; each one is
stopped (and its files removed) by `stop()`.

They are the real engines (Debian's `postgresql` and `redis-server`, chromadb's `chroma run`),
started the way an operator would, only with settings that suit a disposable instance (no fsync
in PostgreSQL: only app processes are killed in these runs, never the database server).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["ChromaServer", "LocalPostgres", "RedisServer", "StackUnavailable", "free_port"]

PG_USER = "aisle"  # the database superuser initdb makes (not an OS user)


class StackUnavailable(RuntimeError):
    """A server program is not installed (or cannot run here); the message says what to install."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, proc: subprocess.Popen | None, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start; log {log}:\n{tail}")


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise StackUnavailable(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return found


def _os_user_for_postgres() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` system user
    (Debian's package makes it), creating that user when it is missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
                       check=True, capture_output=True)  # fmt: skip
    return "postgres"


class LocalPostgres:
    """A PostgreSQL cluster of its own: `initdb` in a temp dir, listening on 127.0.0.1 only,
    trust authentication for the `aisle` role. `database()` makes a new empty database."""

    def __init__(self) -> None:
        initdb, self._pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        self.dir = Path(tempfile.mkdtemp(prefix="aisle-postgres-"))
        self.port = free_port()
        self._as = _os_user_for_postgres()
        if self._as:
            shutil.chown(self.dir, self._as)
        self.log = self.dir / "server.log"
        data = self.dir / "data"
        self._run([initdb, "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"])
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        self._run([self._pg_ctl, "-D", str(data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"])
        self.url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}"

    def _run(self, cmd: list[str]) -> None:
        if self._as:
            cmd = ["runuser", "-u", self._as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr[-1500:] or done.stdout[-1500:]}")

    def database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a new database, empty or a copy of `template` (a database nobody is connected
        to; PostgreSQL copies it file by file, much faster than seeding); its SQLAlchemy URL."""
        import psycopg

        name = name or f"aisle_{uuid.uuid4().hex[:12]}"
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={PG_USER} dbname=postgres", autocommit=True) as conn:
            conn.execute(sql)
        return f"{self.url}/{name}"

    def stop(self) -> None:
        try:
            self._run([self._pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class _ChildServer:
    """A server child process with its own temp dir (`proc`, `dir`), stopped and cleaned up the same way."""

    proc: subprocess.Popen
    dir: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        shutil.rmtree(self.dir, ignore_errors=True)


class ChromaServer(_ChildServer):
    """`chroma run` (the chromadb package's server) on a free port, its data in a temp dir."""

    def __init__(self) -> None:
        import httpx

        exe = Path(sys.executable).with_name("chroma")
        exe = str(exe) if exe.exists() else shutil.which("chroma")
        if not exe:
            raise StackUnavailable("the `chroma` command of the chromadb package is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="aisle-chroma-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "server.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.dir / "db")],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})  # fmt: skip

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            _wait(up, self.proc, 90, "chroma run", self.log)
        except BaseException:
            self.stop()
            raise


class RedisServer(_ChildServer):
    """`redis-server` on a free loopback port, nothing saved to disk (it only holds rate-limit counters)."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise StackUnavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        self.dir = Path(tempfile.mkdtemp(prefix="aisle-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = self.dir / "server.log"
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        try:
            _wait(up, self.proc, 30, "redis-server", self.log)
        except BaseException:
            self.stop()
            raise
