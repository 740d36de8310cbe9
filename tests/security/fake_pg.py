"""A fake PostgreSQL server on 127.0.0.1 that asks for a cleartext password and records what
clients send: the startup parameters and any PasswordMessage. Enough of the protocol (v3) for
libpq to get as far as sending a password; it then refuses the login."""

from __future__ import annotations

import socket
import struct
import threading

SSL_REQUEST, GSSENC_REQUEST, PROTOCOL_3 = 80877103, 80877104, 196608


def _read_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


class FakePostgres:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)  # accept() wakes up to notice the end of the test
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.startups: list[dict] = []
        self.passwords: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopping = False

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping = True
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self):
        while not self._stopping:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                try:
                    self._session(conn)
                except (ConnectionError, OSError):
                    pass

    def _session(self, conn):
        while True:
            length, code = struct.unpack("!ii", _read_exact(conn, 8))
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.sendall(b"N")  # no encryption: the client goes on in plain text
                continue
            body = _read_exact(conn, length - 8)
            if code != PROTOCOL_3:
                return
            parts = body.split(b"\x00")
            self.startups.append({parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 2, 2)
                                  if parts[i]})
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = _read_exact(conn, 1)
        length = struct.unpack("!i", _read_exact(conn, 4))[0]
        body = _read_exact(conn, length - 4)
        if kind == b"p":
            self.passwords.append(body.rstrip(b"\x00").decode())
        fields = b"SFATAL\x00C28P01\x00Mfake server: password refused\x00\x00"
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
