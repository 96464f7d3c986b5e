"""Real servers on 127.0.0.1 for tests and benchmarks of scripts that reach out: a DNS
server (answers built by dnspython), an HTTP/HTTPS server, and a throw-away PostgreSQL
cluster. Each binds an ephemeral port and cleans up after itself.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class LocalDnsServer:
    """A UDP DNS server answering from ``records`` ({(name, type): [rdata text]}).

    Names in ``servfail`` get SERVFAIL, in ``malformed`` a reply that is not DNS, in
    ``silent`` no reply at all; other unknown names get NXDOMAIN. ``questions`` records
    (name, type) as asked."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = {(name.lower().rstrip("."), rtype.upper()): v
                        for (name, rtype), v in records.items()}
        self.servfail: set[str] = set()
        self.malformed: set[str] = set()
        self.silent: set[str] = set()
        self.questions: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="local-dns", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """What ``options.server`` takes."""
        return f"127.0.0.1:{self.port}"

    def _answer(self, query: dns.message.Message) -> bytes | None:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rtype = dns.rdatatype.to_text(question.rdtype)
        self.questions.append((name, rtype))
        if name in self.silent:
            return None
        if name in self.malformed:  # the query's id and a header promising an absent answer
            return query.id.to_bytes(2, "big") + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xff"
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif (name, rtype) in self.records:
            response.answer.append(
                dns.rrset.from_text(question.name, 300, "IN", rtype, *self.records[name, rtype])
            )
        elif not any(known == name for known, _ in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._socket.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(dns.message.from_wire(data))
            except Exception:  # a broken query gets no answer, the server goes on
                continue
            if reply is not None:
                self._socket.sendto(reply, peer)

    def close(self) -> None:
        self._socket.close()


class _Handler(BaseHTTPRequestHandler):
    """Routes: ``/echo`` (the request as JSON), ``/held`` (the same once the server's
    ``gate`` opens), ``/status/N``, ``/slow`` (2 s), ``/hangup`` (closes without a
    response); anything else 404. The query string does not choose the route."""

    protocol_version = "HTTP/1.1"
    server: LocalHttpServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, body))
        route = self.path.split("?", 1)[0]
        if route == "/hangup":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if route == "/slow":
            time.sleep(2)
        if route == "/held":
            self.server.gate.wait(60)
        status = 200
        if route.startswith("/status/"):
            status = int(route.rsplit("/", 1)[1])
        elif route not in ("/echo", "/slow", "/held"):
            status = 404
        payload = json.dumps({
            "method": self.command, "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Local-Server", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _respond


class LocalHttpServer(ThreadingHTTPServer):
    """A threaded HTTP (or, with ``tls``, HTTPS) server on 127.0.0.1."""

    daemon_threads = True
    request_queue_size = 1024  # a burst of concurrent clients is the point of some tests

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.requests: list[tuple[str, str, bytes]] = []
        self.gate = threading.Event()  # /held requests wait for it
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that left early (a timeout under test) is expected: no traceback."""

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries on this machine."""


def postgres_bindir() -> Path:
    """Where ``initdb`` and ``postgres`` are: ``$MOMENTUM_PG_BINDIR``, PATH, or Debian's
    ``/usr/lib/postgresql/<version>/bin`` (newest)."""
    candidates = [os.environ.get("MOMENTUM_PG_BINDIR", "")]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server found (initdb); install Debian's 'postgresql' package "
        "or set MOMENTUM_PG_BINDIR"
    )


def _wait_for_logins(server: subprocess.Popen[bytes], conninfo: str, seconds: float = 60) -> None:
    """Until a login succeeds: the port accepts TCP while the server still answers
    'the database system is starting up' (longer on a busy machine)."""
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start") from None
            time.sleep(0.1)


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A fresh PostgreSQL cluster in a temp dir on an ephemeral port, stopped and removed
    at the end. Yields the ``pgsql:`` datasource URI for its ``postgres`` database, user
    ``momentum``. As root the server runs as the ``postgres`` user (it refuses root)."""
    bindir = postgres_bindir()
    uid: int | None = None
    gid: int | None = None
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        uid, gid = account.pw_uid, account.pw_gid
    workdir = Path(tempfile.mkdtemp(prefix="momentum-pg-"))
    try:
        if uid is not None and gid is not None:
            os.chown(workdir, uid, gid)
        data = workdir / "data"
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "momentum", "--auth=trust", "-E",
             "UTF8", "--no-sync"],
            check=True, capture_output=True, user=uid, group=gid,
        )
        port = free_port()
        server = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=uid, group=gid,
        )
        try:
            uri = f"pgsql:host=127.0.0.1;port={port};dbname=postgres;user=momentum"
            _wait_for_logins(server, uri.removeprefix("pgsql:").replace(";", " "))
            yield uri
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
