"""A local stand-in for an API Gateway HTTP API: routes -> Lambda payload format 2.0 events.

Routes come from the ``HttpApi`` events of the template's functions (``Path`` with ``{param}`` and
greedy ``{proxy+}``, ``Method`` or ``ANY``, or no path for ``$default``). Route selection follows
API Gateway: the most specific path wins (literal segments over ``{param}`` over ``{proxy+}``), a
declared method over ``ANY``. The request becomes the exact 2.0 event (``rawPath``, ``cookies``,
comma-joined ``headers`` and ``queryStringParameters``, ``requestContext.http`` ...), the handler's
return value becomes the HTTP response as API Gateway translates it (``cookies`` -> ``Set-Cookie``,
``isBase64Encoded`` bodies decoded, a bare value without ``statusCode`` -> 200 JSON).

Request bodies are base64-encoded unless their content type is text: as measured against real
HTTP APIs, only ``text/*``, ``application/json``, ``application/xml`` and ``application/javascript``
arrive as plain text; everything else - including HTML form posts
(``application/x-www-form-urlencoded``) and bodies without a content type - arrives base64-encoded
with ``isBase64Encoded: true``. Handlers must decode accordingly, as they must in AWS.

Routes whose event says ``Auth: {Authorizer: <name>}`` (or that inherit the API's
``DefaultAuthorizer``) are guarded by :mod:`.auth`: a missing or invalid token answers 401
``{"message":"Unauthorized"}`` without invoking the function, and a valid one puts the claims in
``requestContext.authorizer.jwt``, as API Gateway's JWT authorizer does.

Unknown routes answer 404 ``{"message":"Not Found"}``; a handler exception or an invalid response
answers 500 ``{"message":"Internal Server Error"}``, like API Gateway. The server is a
``ThreadingHTTPServer`` on 127.0.0.1; its access log goes to the ``logging`` module. ``stop`` also
closes the connections browsers keep alive, so no handler answers once the stack has stopped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .auth import InvalidToken, JwtAuthorizer
from .clock import Clock
from .functions import LambdaFunction

__all__ = ["HttpApiServer", "Route", "RouteTable", "build_event", "translate_response"]

log = logging.getLogger(__name__)

TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
NOT_FOUND = (404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
UNAUTHORIZED = (401, [("Content-Type", "application/json")], b'{"message":"Unauthorized"}')
INTERNAL_ERROR = (500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}')
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
STOP_TIMEOUT_SECONDS = 5


# ---------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------

_LITERAL, _PARAM, _GREEDY = 2, 1, 0


@dataclass
class Route:
    """One route: ``METHOD /path/{param}`` (or ``$default``) to a function."""

    method: str
    path: str | None
    function: LambdaFunction
    api_id: str
    authorizer: JwtAuthorizer | None = None
    """The JWT authorizer guarding the route (None: public)."""
    segments: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            self.method = "ANY"
        self.segments = [_segment(part) for part in (self.path or "").strip("/").split("/") if part]

    @property
    def route_key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """Path parameters if this route serves the request, else None."""
        if self.method not in {"ANY", method}:
            return None
        if self.path is None:
            return {}
        parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        params: dict[str, str] = {}
        for index, (kind, name) in enumerate(self.segments):
            if kind == _GREEDY:
                rest = parts[index:]
                if not rest:
                    return None
                params[name] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            if kind == _LITERAL and parts[index] != name:
                return None
            if kind == _PARAM:
                params[name] = unquote(parts[index])
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[int, tuple[int, ...], int]:
        return (self.path is not None, tuple(kind for kind, _ in self.segments), self.method != "ANY")


def _segment(part: str) -> tuple[int, str]:
    if part.startswith("{") and part.endswith("+}"):
        return (_GREEDY, part[1:-2])
    if part.startswith("{") and part.endswith("}"):
        return (_PARAM, part[1:-1])
    return (_LITERAL, part)


@dataclass
class RouteTable:
    routes: list[Route] = field(default_factory=list)

    def add(self, route: Route) -> None:
        if any(existing.route_key == route.route_key for existing in self.routes):
            raise ValueError(f"route {route.route_key} is declared twice")
        self.routes.append(route)

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        candidates = []
        for route in self.routes:
            params = route.match(method, raw_path)
            if params is not None:
                candidates.append((route, params))
        if not candidates:
            return None
        return max(candidates, key=lambda candidate: candidate[0].specificity())

    def keys(self) -> list[str]:
        return [route.route_key for route in self.routes]


# ---------------------------------------------------------------------------------------------
# Event and response translation
# ---------------------------------------------------------------------------------------------


@dataclass
class HttpRequest:
    """What the server read from the socket."""

    method: str
    target: str
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    server_port: int


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES


def build_event(
    request: HttpRequest, route: Route, path_params: dict[str, str], *, now: datetime, account_id: str
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for ``request``."""
    split = urlsplit(request.target)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", f"127.0.0.1:{request.server_port}")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", str(request.server_port))
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}")
    request_id = base64.b64encode(os.urandom(11)).decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(split.query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": route.api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": split.path or "/",
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    text = _is_text(headers.get("content-type"))
    if request.body:
        event["body"] = request.body.decode("utf-8", "replace") if text else base64.b64encode(request.body).decode()
    if path_params:
        event["pathParameters"] = path_params
    event["isBase64Encoded"] = bool(request.body) and not text
    return event


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def translate_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a handler's return value into status, headers and body, as API Gateway does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return 200, [("Content-Type", "application/json")], body.encode()
    status = int(result["statusCode"])
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw_body)
    else:
        body = str(raw_body).encode()
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------


class _TrackingHTTPServer(ThreadingHTTPServer):
    """A threading server that can close the connections its handler threads hold (keep-alive)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(request, None)

    def close_connections(self, timeout: float) -> None:
        """Shut the open connections down (idle keep-alive reads end) and wait for their threads."""
        with self._connections_lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in connections:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("HTTP handler thread %s still running after stop", thread.name)


@dataclass
class HttpApiServer:
    """Serves the route table on 127.0.0.1; the socket is bound at construction."""

    routes: RouteTable
    clock: Clock
    account_id: str
    port: int = 0
    fallback: Callable[[HttpRequest], tuple[int, list[tuple[str, str]], bytes] | None] | None = None
    """Answers what no route of the template serves (the local sign-in: :mod:`.sign_in`), or None."""
    _server: _TrackingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._server = _TrackingHTTPServer(("127.0.0.1", self.port), _make_handler(self))
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open connections, wait (a little) for requests in flight."""
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=STOP_TIMEOUT_SECONDS)
            self._thread = None
        self._server.server_close()
        self._server.close_connections(timeout=STOP_TIMEOUT_SECONDS)
        self._server = None

    def respond(self, request: HttpRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        path = urlsplit(request.target).path or "/"
        matched = self.routes.match(request.method, path)
        if matched is None:
            answer = self.fallback(request) if self.fallback is not None else None
            return answer if answer is not None else NOT_FOUND
        route, params = matched
        now = self.clock.now()
        event = build_event(request, route, params, now=now, account_id=self.account_id)
        if route.authorizer is not None:
            try:
                event["requestContext"]["authorizer"] = route.authorizer.authorize(event["headers"], now)
            except InvalidToken as error:
                log.info("%s %s: 401 from %s (%s)", request.method, path, route.authorizer.name, error)
                return UNAUTHORIZED
        invocation = route.function.call(event)
        if invocation.failed:
            log.error("%s %s: handler failed", request.method, path, exc_info=invocation.error)
            return INTERNAL_ERROR
        try:
            status, headers, body = translate_response(invocation.result)
        except (AttributeError, TypeError, ValueError):
            log.exception("%s %s: invalid handler response %r", request.method, path, invocation.result)
            return INTERNAL_ERROR
        request_id = event["requestContext"]["requestId"]
        return status, [*headers, ("Apigw-Requestid", request_id)], body


def _make_handler(server: HttpApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "npsloop-local"

        def _handle(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = HttpRequest(
                method=self.command,
                target=self.path,
                protocol=self.request_version,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                server_port=server.port,
            )
            status, headers, payload = server.respond(request)
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {"content-length", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            log.debug("%s %s -> %d in %.0f ms", self.command, self.path, status, (time.monotonic() - started) * 1000)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s - " + format, self.client_address[0], *args)

    for method in METHODS:
        setattr(Handler, f"do_{method}", Handler._handle)
    return Handler
