"""KeepAliveTransport over real loopback sockets: connections are reused, replaced when the
server closed them or they expired, errors come out as httpx's, and a request cut short
never hands a half-used connection to the next one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from jirabridge._keepalive import KeepAliveTransport
from jirabridge.errors import RetryLaterError
from jirabridge.jira import RetryPolicy
from jirabridge.jira._http import JiraHttp


class Server:
    """A small HTTP/1.1 server: answers each request with ``{"n": <request number>}``.

    ``close_after``: close the connection after that many answers on it (the header says
    so only with ``announce``); ``cut``: answer with a body shorter than its length;
    ``hold``: wait on this event before answering.
    """

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.close_after: int | None = None
        self.announce = False
        self.cut = False
        self.hold: asyncio.Event | None = None
        self.arrived = asyncio.Event()  # a request was read
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.arrived.set()
                if self.hold is not None:
                    await self.hold.wait()
                self.requests += 1
                served += 1
                body = b'{"n": %d}' % self.requests
                closing = self.close_after is not None and served >= self.close_after
                extra = b"Connection: close\r\n" if closing and self.announce else b""
                size = len(body) + (10 if self.cut else 0)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + extra
                    + b"Content-Length: %d\r\n\r\n" % size
                    + body
                )
                await writer.drain()
                if closing or self.cut:
                    break
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    listening = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    yield srv
    listening.close()
    await listening.wait_closed()


def _http(server: Server, transport: KeepAliveTransport, **kw: object) -> JiraHttp:
    return JiraHttp(server.url, auth=None, transport=transport, **kw)  # type: ignore[arg-type]


async def test_the_default_transport_is_the_keepalive_pool(server: Server, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    http = JiraHttp(server.url, auth=None)
    assert isinstance(http.client._transport, KeepAliveTransport)
    assert await http.json("GET", "/a") == {"n": 1}
    await http.aclose()
    # a proxy named by the environment: httpx's transports, which honour it
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    http = JiraHttp(server.url, auth=None)
    assert not isinstance(http.client._transport, KeepAliveTransport)
    await http.aclose()


async def test_one_connection_carries_sequential_requests(server: Server) -> None:
    pool = KeepAliveTransport()
    http = _http(server, pool)
    answers = [await http.json("GET", f"/rest/api/2/issue/A-{n}") for n in range(5)]
    assert [a["n"] for a in answers] == [1, 2, 3, 4, 5]
    assert server.connections == 1 and pool.opened == 1 and pool.idle_connections() == 1
    await http.aclose()
    assert pool.idle_connections() == 0


async def test_concurrent_requests_open_one_each_and_keep_at_most_max_idle(
    server: Server,
) -> None:
    pool = KeepAliveTransport(max_idle=2)
    server.hold = asyncio.Event()
    async with httpx.AsyncClient(transport=pool, base_url=server.url) as client:
        tasks = [asyncio.create_task(client.get("/x")) for _ in range(4)]
        while server.connections < 4:  # noqa: ASYNC110 (the server has no event for it)
            await asyncio.sleep(0.01)
        server.hold.set()
        await asyncio.gather(*tasks)
        assert pool.opened == 4 and pool.idle_connections() == 2
        await client.get("/y")
        assert pool.opened == 4  # an idle one was reused
    assert pool.idle_connections() == 0


@pytest.mark.parametrize("announce", [True, False])
async def test_a_connection_the_server_closed_is_replaced(server: Server, announce: bool) -> None:
    server.close_after, server.announce = 1, announce
    pool = KeepAliveTransport()
    http = _http(server, pool)
    for n in (1, 2, 3):
        assert await http.json("GET", "/a") == {"n": n}
        await asyncio.sleep(0.05)  # the close reaches us before the next request
    assert server.connections == 3 and pool.opened == 3
    await http.aclose()


async def test_an_expired_connection_is_not_reused(server: Server) -> None:
    pool = KeepAliveTransport(keepalive_expiry=0.05)
    http = _http(server, pool)
    await http.json("GET", "/a")
    await asyncio.sleep(0.1)
    await http.json("GET", "/a")
    assert pool.opened == 2 and server.connections == 2
    await http.aclose()


async def test_a_body_cut_short_is_httpx_error_and_the_connection_dropped(
    server: Server,
) -> None:
    pool = KeepAliveTransport()
    server.cut = True
    with pytest.raises(httpx.RemoteProtocolError):
        async with httpx.AsyncClient(transport=pool) as client:
            await client.get(server.url + "/a")
    assert pool.idle_connections() == 0
    # through JiraHttp: retried like no answer, then a retry-later error
    http = _http(server, KeepAliveTransport(), retry=RetryPolicy(max_attempts=2, base_delay=0))
    with pytest.raises(RetryLaterError, match="RemoteProtocolError"):
        await http.request("GET", "/a")
    await http.aclose()


async def test_refused_connection_is_httpx_connect_error() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    pool = KeepAliveTransport()
    with pytest.raises(httpx.ConnectError):
        await pool.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))
    assert pool.idle_connections() == 0
    await pool.aclose()


async def test_a_cancelled_request_does_not_leave_its_connection_in_the_pool(
    server: Server,
) -> None:
    pool = KeepAliveTransport()
    http = _http(server, pool)
    server.hold = asyncio.Event()
    task = asyncio.create_task(http.json("GET", "/slow"))
    await server.arrived.wait()  # the request is sent; its answer is held back
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.idle_connections() == 0
    server.hold.set()
    assert await http.json("GET", "/next") == {"n": 2}  # a fresh connection answers
    assert pool.opened == 2
    await http.aclose()


async def test_a_closed_transport_refuses_requests(server: Server) -> None:
    pool = KeepAliveTransport()
    await pool.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.handle_async_request(httpx.Request("GET", server.url))


def _self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


async def test_https_is_verified_and_kept_alive(tmp_path) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    srv = Server()
    listening = await asyncio.start_server(srv.handle, "127.0.0.1", 0, ssl=served)
    url = f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        trusting = ssl.create_default_context(cafile=cert)
        pool = KeepAliveTransport(ssl_context=trusting)
        http = JiraHttp(url, auth=None, transport=pool)
        assert [(await http.json("GET", "/a"))["n"] for _ in range(3)] == [1, 2, 3]
        assert pool.opened == 1 and srv.connections == 1
        await http.aclose()
        # the default context does not trust a self-signed certificate: no answer
        http = JiraHttp(
            url, auth=None, transport=KeepAliveTransport(), retry=RetryPolicy(max_attempts=1)
        )
        with pytest.raises(RetryLaterError, match="ConnectError"):
            await http.request("GET", "/a")
        await http.aclose()
    finally:
        listening.close()
        await listening.wait_closed()
