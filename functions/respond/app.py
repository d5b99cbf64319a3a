"""respond: the pages behind the email links (HTTP API). GET never writes; POST commits."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop import web
from npsloop.domain.links import ExpiredLink, InvalidLink
from npsloop.observability import logger
from npsloop.services.report_preferences import page_language
from npsloop.services.respond import MalformedForm, UnknownInvitation, preferred_locale
from npsloop.wiring import respond

app = APIGatewayHttpResolver()


@app.get("/r/<token>")
def response_page(token: str) -> Response:
    score = app.current_event.get_query_string_value("score")
    return web.html(respond.respond_service().confirmation_page(token, score, action=token))


@app.post("/r/<token>")
def submit_response(token: str) -> Response:
    return web.html(respond.respond_service().submit(token, web.form_body(app.current_event), action=token))


@app.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    return web.html(respond.respond_service().unsubscribe_page(token, action=token))


@app.post("/u/<token>")
def unsubscribe(token: str) -> Response:
    return web.html(respond.respond_service().unsubscribe(token))


@app.get("/reports/stop/<token>")
def report_stop_page(token: str) -> Response:
    locale = _report_locale()
    return web.html(respond.report_stop_service().page(token, locale, action=_with_lang(token, locale)))


@app.post("/reports/stop/<token>")
def report_stop(token: str) -> Response:
    return web.html(respond.report_stop_service().stop(token, _report_locale()))


def _report_locale() -> str:
    return page_language(app.current_event.get_query_string_value("lang"), _locale())


def _with_lang(token: str, locale: str) -> str:
    return f"{token}?lang={locale}"


def _locale() -> str:
    return preferred_locale(app.current_event.headers.get("accept-language"))


@app.exception_handler(InvalidLink)
def invalid_link(exc: InvalidLink) -> Response:
    logger.info("invalid link", reason=str(exc))
    return web.error(400, "invalid", _locale())


@app.exception_handler(ExpiredLink)
def expired_link(exc: ExpiredLink) -> Response:
    return web.error(410, "expired", _locale())


@app.exception_handler(UnknownInvitation)
def unknown_invitation(exc: UnknownInvitation) -> Response:
    return web.error(404, "unknown", _locale())


@app.exception_handler(MalformedForm)
def malformed_form(exc: MalformedForm) -> Response:
    logger.info("malformed form", reason=str(exc))
    return web.error(400, "malformed", _locale())


@app.not_found
def not_found(exc: NotFoundError) -> Response:
    return web.error(404, "not_found", _locale())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
