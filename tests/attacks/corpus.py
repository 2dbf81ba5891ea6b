"""The attack corpus: reading its files, sending an attack over a raw socket, judging the answer.

Why a raw socket: several attacks are about framing (a chunked body over the cap, a
``Content-Length`` that lies, an oversized header, a path with ``..`` that a client library
would normalise), so the request must leave exactly as written. Used by
``tests/web/test_attacks.py`` (every file a test case) and ``bench/durability.py`` (an attack mix
under load). The file format is described in ``tests/attacks/README.md``.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent
#: Placeholder in a path, header or body: the ``host:port`` of the canary listener.
CANARY = "$CANARY"
#: The token the live server under attack accepts (tests.conftest.WRITE_TOKEN).
WRITE_TOKEN = "test-write-token"


@dataclass
class Attack:
    """One corpus file: the request to send and what the service must answer."""

    name: str
    description: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    chunked: bool = False
    token: str = "none"  # none | valid | wrong
    status: list[int] = field(default_factory=list)
    message: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # substrings the answer (head or body) must not hold
    headers_absent: list[str] = field(default_factory=list)  # header names the answer must not have
    unchanged: bool = True  # the store's content is the same afterwards
    no_fetch: bool = True  # nothing connected to the canary listener
    timeout: float = 30.0
    issue: str = ""


def _text(value: Any, where: str) -> bytes:
    """A value of the format: a string, or a list of pieces (string, {text, repeat}, {hex})."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        out = bytearray()
        for piece in value:
            if isinstance(piece, str):
                out += piece.encode("utf-8")
            elif isinstance(piece, dict) and "hex" in piece:
                out += bytes.fromhex(piece["hex"]) * int(piece.get("repeat", 1))
            elif isinstance(piece, dict) and "text" in piece:
                out += piece["text"].encode("utf-8") * int(piece.get("repeat", 1))
            else:
                raise ValueError(f"{where}: a piece must be a string, {{text, repeat}} or {{hex}}: {piece!r}")
        return bytes(out)
    raise ValueError(f"{where}: expected a string or a list of pieces, got {value!r}")


def load(path: Path) -> Attack:
    """Read one corpus file (TOML); errors name the file and the field."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    req, expect = data.get("request", {}), data.get("expect", {})
    body: bytes | None = None
    if "body_file" in req:
        body = (path.parent / req["body_file"]).read_bytes()
    elif "body" in req:
        body = _text(req["body"], f"{path.name}: request.body")
    status = expect.get("status")
    if status is None:
        raise ValueError(f"{path.name}: expect.status is required")
    message = expect.get("message", [])
    absent = expect.get("absent", [])
    headers_absent = expect.get("headers_absent", [])
    return Attack(
        name=path.stem, description=data.get("description", ""), method=req.get("method", "GET"),
        path=_text(req.get("path", "/"), f"{path.name}: request.path").decode("latin-1"),
        headers=[(k, _text(v, f"{path.name}: header {k}").decode("latin-1"))
                 for k, v in req.get("headers", {}).items()],
        body=body, chunked=bool(req.get("chunked", False)), token=data.get("token", "none"),
        status=status if isinstance(status, list) else [status],
        message=message if isinstance(message, list) else [message],
        absent=absent if isinstance(absent, list) else [absent],
        headers_absent=headers_absent if isinstance(headers_absent, list) else [headers_absent],
        unchanged=bool(data.get("unchanged", True)), no_fetch=bool(data.get("no_fetch", True)),
        timeout=float(data.get("timeout", 30.0)), issue=str(data.get("issue", "")))


def load_all(folder: Path = CORPUS) -> list[Attack]:
    """Every attack of the corpus, by file name."""
    return [load(p) for p in sorted(folder.glob("*.toml"))]


# -- sending ---------------------------------------------------------------------------------


@dataclass
class Answer:
    """What came back: status (0 if the connection closed without one), headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw_head: bytes = b""

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def request_bytes(attack: Attack, host: str, canary: str = "127.0.0.1:9") -> tuple[bytes, bytes]:
    """The request head and body exactly as they go on the wire."""
    def fill(text: str) -> str:
        return text.replace(CANARY, canary)

    body = attack.body.replace(CANARY.encode(), canary.encode()) if attack.body is not None else None
    headers = [(k, fill(v)) for k, v in attack.headers]
    names = {k.lower() for k, _ in headers}
    if attack.token == "valid":
        headers.append(("Authorization", f"Bearer {WRITE_TOKEN}"))
    elif attack.token == "wrong":
        headers.append(("Authorization", "Bearer not-the-token"))
    if "host" not in names:
        headers.insert(0, ("Host", host))
    headers.append(("Connection", "close"))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        headers.append(("Transfer-Encoding", "chunked") if attack.chunked else ("Content-Length", str(len(body))))
    head = f"{attack.method} {fill(attack.path)} HTTP/1.1\r\n".encode("latin-1")
    head += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers) + b"\r\n"
    if body is None:
        return head, b""
    if attack.chunked:
        size = 4096
        framed = b"".join(f"{len(body[i:i + size]):x}\r\n".encode() + body[i:i + size] + b"\r\n"
                          for i in range(0, len(body), size))
        return head, framed + b"0\r\n\r\n"
    return head, body


def _read_answer(sock: socket.socket) -> Answer:
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return Answer(0, {}, bytes(data), bytes(data))
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = bytearray(rest)
    while chunk := sock.recv(65536):  # Connection: close — read to the end
        body += chunk
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray(_unchunk(bytes(body)))
    return Answer(status, headers, bytes(body), head)


def _unchunk(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        line_end = data.find(b"\r\n", i)
        if line_end < 0:
            break
        size = int(data[i:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[line_end + 2:line_end + 2 + size]
        i = line_end + 2 + size + 2
    return bytes(out)


def send(attack: Attack, base_url: str, canary: str = "127.0.0.1:9") -> Answer:
    """Send one attack over a fresh connection, within its timeout (``TimeoutError`` past it).

    A server that stops reading (it answered early, e.g. 413) may reset the connection while
    the body is still going out: the answer is then read from what it sent before.
    """
    parts = urllib.parse.urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head, body = request_bytes(attack, f"{host}:{port}", canary)
    with socket.create_connection((host, port), timeout=attack.timeout) as sock:
        try:
            sock.sendall(head)
            for i in range(0, len(body), 65536):
                sock.sendall(body[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything: read that answer
        try:
            return _read_answer(sock)
        except ConnectionResetError:
            return Answer(0, {}, b"")


def judge(attack: Attack, answer: Answer) -> list[str]:
    """What is wrong with the answer (empty: as expected)."""
    problems = []
    if answer.status not in attack.status:
        problems.append(f"status {answer.status}, expected {' or '.join(map(str, attack.status))}: "
                        f"{answer.text()[:300]!r}")
    text = answer.text().lower()
    for needle in attack.message:
        if needle.lower() not in text:
            problems.append(f"the message does not contain {needle!r}: {answer.text()[:300]!r}")
    whole = answer.raw_head.decode("latin-1").lower() + "\n" + text
    for needle in attack.absent:
        if needle.lower() in whole:
            problems.append(f"the answer contains {needle!r}")
    for name in attack.headers_absent:
        if name.lower() in answer.headers:
            problems.append(f"the answer has a header {name!r}: {answer.headers[name.lower()]!r}")
    if answer.status >= 500 and answer.status not in attack.status:
        problems.append(f"a server error ({answer.status}) for a client's request")
    return problems


# -- the store and the canary ----------------------------------------------------------------

DUMP_QUERY = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def store_hash(base_url: str, timeout: float = 60.0) -> str:
    """A hash of everything the store holds (all quads, sorted), read through ``/sparql``."""
    import urllib.request

    url = base_url + "/sparql?" + urllib.parse.urlencode({"query": DUMP_QUERY})
    request = urllib.request.Request(url, headers={"Accept": "text/tab-separated-values"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.headers.get("X-Result-Truncated"):
            raise RuntimeError("the store dump was cut by the row cap: the hash would not see every quad")
        lines = response.read().split(b"\n")
    return hashlib.sha256(b"\n".join(sorted(lines[1:]))).hexdigest()


class Canary:
    """A listener on 127.0.0.1 that counts connections: attacks aim SERVICE/LOAD/@context at it.

    It answers any request with an empty SPARQL JSON result, so a request that does reach it
    would also get an answer back (the SSRF that *returns* data).
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        body = b'{"head":{"vars":["canary"]},"results":{"bindings":[{"canary":{"type":"literal","value":"CANARY"}}]}}'
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
                                 + body)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
