"""Signing in to an exposed server with the token, and out again.

Signing in trades the token for a session cookie (HttpOnly, SameSite=Lax, Secure behind
https) that `newswatch.web.access` accepts for reads. Actions still ask for the token
itself. A server that is not exposed needs no sign-in: /login sends the browser on.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from newswatch.web.access import COOKIE, SESSION_SECONDS, SIGN_IN, safe_next, same, session_value
from newswatch.web.context import web
from newswatch.web.pages import render_page
from newswatch.web.params import form_fields
from newswatch.web.security import cross_site


def _form(request: Request, target: str, status: int = 200, error: str | None = None):
    return render_page(request, "login.html", status, title="Sign in", next=target, error=error)


async def login(request: Request) -> Response:
    options = web(request).options
    if request.method == "GET":
        target = safe_next(request.query_params.get("next"))
        if not options.reads_need_token:
            return RedirectResponse(target, status_code=303)
        return _form(request, target)
    form = await form_fields(request)
    target = safe_next(form.get("next"))
    refused = cross_site(request, options)  # a foreign page must not sign anyone in
    if refused:
        raise HTTPException(403, refused)
    if not options.reads_need_token:
        return RedirectResponse(target, status_code=303)
    if not same(form.get("token"), options.token):
        return _form(request, target, 403, "That is not the token this server was started with.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_value(options.token or ""),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=options.https,
    )
    return response


async def logout(request: Request) -> Response:
    refused = cross_site(request, web(request).options)
    if refused:
        raise HTTPException(403, refused)
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="lax")
    return response
