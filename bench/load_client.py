"""HTTP/1.1 keep-alive clients for `bench/load.py`.

The client shares the two cores with the server, so every microsecond it spends per
request is taken from the server. `RawConnection` writes pre-built request bytes on an
asyncio stream and reads only the status line, the headers it needs and the body;
`HttpxConnection` does the same through httpx for comparison (`--compare-clients`
measures the client CPU per request of both).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # The request as sent on the wire, encoded once: encoding per send costs client CPU.
    wire: bytes


class Connection(Protocol):
    async def send(self, request: Request) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


def build(
    base: str, method: str, path: str, headers: dict[str, str], body: object = None
) -> Request:
    """A request with an optional JSON body, and its HTTP/1.1 encoding for `base`."""
    headers = dict(headers)
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(base).netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if data or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(data)}")
    wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data
    return Request(method, path, headers, data, wire)


class RawConnection:
    """One persistent connection; reconnects after the server closes it."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def send(self, request: Request) -> tuple[int, bytes]:
        reader, writer = await self._open()
        try:
            writer.write(request.wire)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            headers = head.lower()
            body = await _read_body(reader, headers)
        except BaseException:
            await self.close()
            raise
        if b"\r\nconnection: close" in headers:
            await self.close()
        return status, body

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def _read_body(reader: asyncio.StreamReader, headers: bytes) -> bytes:
    marker = b"\r\ncontent-length:"
    at = headers.find(marker)
    if at >= 0:
        end = headers.index(b"\r\n", at + len(marker))
        return await reader.readexactly(int(headers[at + len(marker) : end]))
    if b"\r\ntransfer-encoding: chunked" in headers:
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    raise ValueError("response without Content-Length or chunked body")


class HttpxConnection:
    """httpx with a single keep-alive connection, for the client-cost comparison."""

    def __init__(self, base: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=base, limits=httpx.Limits(max_connections=1), timeout=60.0
        )

    async def send(self, request: Request) -> tuple[int, bytes]:
        response = await self._client.request(
            request.method, request.path, headers=request.headers, content=request.body or None
        )
        return response.status_code, response.content

    async def close(self) -> None:
        await self._client.aclose()


def connection(kind: str, base: str) -> Connection:
    return HttpxConnection(base) if kind == "httpx" else RawConnection(base)
