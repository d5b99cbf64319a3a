"""web: the pages for signed-in staff - sign-in (code + PKCE), session, dashboard, answers, cases, static files."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop import web
from npsloop.observability import logger
from npsloop.pages import answer_pages, case_pages, dashboard_pages, sign_in_routes, static_files
from npsloop.pages.site import SignInRequired, locale_of, page, sign_in_redirect
from npsloop.services.respond import MalformedForm

app = APIGatewayHttpResolver()
app.include_router(sign_in_routes.router)
app.include_router(case_pages.router)
app.include_router(dashboard_pages.router)
app.include_router(answer_pages.router)
app.include_router(static_files.router)


@app.exception_handler(SignInRequired)
def sign_in_required(exc: SignInRequired) -> Response:
    return sign_in_redirect(exc.next_path)


@app.exception_handler(MalformedForm)
def malformed_form(exc: MalformedForm) -> Response:
    return web.error(400, "malformed", locale_of(app.current_event)[0])


@app.not_found
def not_found(exc: NotFoundError) -> Response:
    return page(404, "message", locale_of(app.current_event)[0], event=app.current_event, kind="not_found")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
