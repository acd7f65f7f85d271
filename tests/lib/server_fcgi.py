"""server_fcgi.py: a minimal FastCGI client for the server tests (python3 stdlib only).

cgi-fcgi and bench/fcgi_client.c send one request per connection with FCGI_KEEP_CONN off;
these tests also need a connection the client keeps open for several requests, as nginx
does with `fastcgi_keep_conn on`, and a request whose body is held back on cue.

    conn = Conn(path)                    # unix socket path, or "host:port"
    st, headers, body = conn.request(params, body=b"", keep=True)
    conn.closed_by_server(timeout)       # True once the server has closed the connection
"""
import socket
import struct

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1
KEEP_CONN = 1


def record(kind, req_id, content=b""):
    out = b""
    while True:  # records carry at most 65535 bytes; an empty one ends a stream
        part, content = content[:65535], content[65535:]
        pad = -len(part) % 8
        out += struct.pack(">BBHHBx", VERSION, kind, req_id, len(part), pad) + part + b"\0" * pad
        if not content:
            return out


def name_value(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    n, v = name.encode(), value.encode()
    return length(len(n)) + length(len(v)) + n + v


def params_for(method, uri, ctype="", body=b""):
    p = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "SCRIPT_NAME": uri,
         "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    if ctype:
        p["CONTENT_TYPE"] = ctype
    if method == "POST":
        p["CONTENT_LENGTH"] = str(len(body))
    return p


class Conn:
    def __init__(self, path, timeout=30):
        """path: a unix socket path, or "host:port" for TCP."""
        host, _, port = path.rpartition(":")
        tcp = not path.startswith("/") and port.isdigit()
        self.s = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)  # a server that never answers fails the test, not hangs it
        self.s.connect((host, int(port)) if tcp else path)
        self.req_id = 0

    def begin(self, params, body=b"", keep=True, send_body=True):
        """Sends BEGIN_REQUEST, PARAMS and (unless send_body is False) the whole body."""
        self.req_id += 1
        rid = self.req_id
        pairs = b"".join(name_value(k, v) for k, v in params.items())
        msg = record(BEGIN_REQUEST, rid, struct.pack(">HB5x", RESPONDER, KEEP_CONN if keep else 0))
        msg += record(PARAMS, rid, pairs) + record(PARAMS, rid)
        self.s.sendall(msg)
        if send_body:
            self.send_body(body)

    def send_body(self, body):
        data = record(STDIN, self.req_id, body) if body else b""
        self.s.sendall(data + record(STDIN, self.req_id))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("server closed the connection mid-answer")
            buf += chunk
        return buf

    def answer(self):
        """Reads up to END_REQUEST: (status, headers dict, body bytes)."""
        out = b""
        while True:
            _, kind, rid, clen, pad = struct.unpack(">BBHHBx", self._read(8))
            content = self._read(clen + pad)[:clen]
            if rid != self.req_id:
                continue
            if kind == STDOUT:
                out += content
            elif kind == END_REQUEST:
                break
        head, _, body = out.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        status = int(headers.get("status", "200").split()[0])
        return status, headers, body

    def request(self, params, body=b"", keep=True):
        self.begin(params, body, keep)
        return self.answer()

    def closed_by_server(self, timeout):
        """Waits up to timeout seconds for EOF (or a reset); False if the connection stays."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def get(path_or_conn, uri, keep=False):
    """GET uri on a fresh connection (or the given one): (status, headers, body)."""
    conn = path_or_conn if isinstance(path_or_conn, Conn) else Conn(path_or_conn)
    try:
        return conn.request(params_for("GET", uri), keep=keep)
    finally:
        if conn is not path_or_conn:
            conn.close()
