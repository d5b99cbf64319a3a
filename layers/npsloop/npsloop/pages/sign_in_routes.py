"""``/auth/sign-in``, ``/auth/callback``, ``/auth/sign-out`` and ``/auth/signed-out`` (npsloop.pages.session)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from npsloop.api.cases import request_base_url
from npsloop.observability import logger
from npsloop.pages.session import FLOW_COOKIE, SignInFailed, cookie_value
from npsloop.pages.site import locale_of, page, redirect
from npsloop.pages.tokens import InvalidToken
from npsloop.ports.sign_in import SignInUnavailable
from npsloop.wiring import container, web

router = APIGatewayHttpRouter()


def _base_url() -> str:
    """This site's URL: the public base URL, else the URL the request came in on (API Gateway's own)."""
    base = container.settings().public_base_url or request_base_url(router.current_event.raw_event)
    if base is None:
        raise SignInFailed("the request does not say which host it came to")
    return base


def _callback_url() -> str:
    return f"{_base_url()}/auth/callback"


@router.get("/auth/sign-in")
def start_sign_in() -> Response:
    url, flow = web.sign_in().start(router.current_event.get_query_string_value("next"), _callback_url())
    return redirect(url, [flow])


@router.get("/auth/callback")
def finish_sign_in() -> Response:
    event = router.current_event
    locale, _ = locale_of(event)
    try:
        target, session, cleared = web.sign_in().finish(
            code=event.get_query_string_value("code"),
            state=event.get_query_string_value("state"),
            flow_cookie=cookie_value(event.cookies or [], FLOW_COOKIE),
            redirect_uri=_callback_url(),
        )
    except (SignInFailed, InvalidToken) as exc:
        logger.info("sign-in refused", reason=str(exc))
        return page(400, "message", locale, event=event, kind="sign_in_failed")
    except SignInUnavailable as exc:
        logger.warning("sign-in: the identity provider failed", reason=str(exc))
        return page(502, "message", locale, event=event, kind="unavailable")
    logger.info("signed in")
    return redirect(target, [session, cleared])


@router.get("/auth/sign-out")
def sign_out() -> Response:
    url, cleared = web.sign_in().sign_out(f"{_base_url()}/auth/signed-out")
    return redirect(url, [cleared])


@router.get("/auth/signed-out")
def signed_out() -> Response:
    locale, _ = locale_of(router.current_event)
    return page(200, "message", locale, event=router.current_event, kind="signed_out")
