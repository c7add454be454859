"""Slow clients are cut off (issue 9.10): a connection dribbling its headers or pausing in its
body is closed after the configured deadline, while a normal request is served."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.e2e.http_server import LadingServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LadingServer(tmp_path_factory.mktemp("slow"), worker=False,
                       LADING_HEADER_TIMEOUT="1", LADING_BODY_IDLE_TIMEOUT="1")
    srv.start()
    yield srv
    srv.stop()


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection (EOF) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (TimeoutError, socket.timeout):
        return False
    except ConnectionResetError:
        return True


def test_a_client_sending_headers_a_byte_at_a_time_is_disconnected(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
                sock.send(bytes([byte]))
                time.sleep(0.05)  # 34 bytes in 1.7 s: headers never finish within the 1 s deadline
        except (BrokenPipeError, ConnectionResetError):
            return  # closed while still dribbling
        assert closed_within(sock, 5)


def test_a_client_pausing_in_its_body_is_disconnected(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /v1/import-jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"objectName\"")
        assert closed_within(sock, 5)


def test_a_normal_request_is_served(server):
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
