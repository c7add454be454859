"""Sign in with an API key (or a JWT), sign out."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from lading.domain.errors import DomainError
from lading.entrypoints.http.console.session import AuthenticatorDependency, sign_in, sign_out
from lading.entrypoints.http.console.views import page


class SignInForm(msgspec.Struct):
    credential: str = ""
    next: str = ""


def _safe_next(target: str | None) -> str:
    """Only a console path: a sign-in link must not send anyone to another site."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/jobs"


class SignInController(Controller):
    @get("/", name="console-home")
    async def home(self) -> Redirect:
        return Redirect("/console/jobs", status_code=303)

    @get("/sign-in", name="console-sign-in")
    async def sign_in_page(self, request: Request, next: FromQuery[str | None] = None) -> Response:
        if not request.session:
            request.clear_session()  # no store entry for a visitor who is not signed in
        return page("sign_in.html", None, next=_safe_next(next), message=None)

    @post("/sign-in", status_code=303)
    async def sign_in(
        self, request: Request, authenticator: AuthenticatorDependency,
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        if not data.credential.strip():
            return page("sign_in.html", None, status_code=400, next=_safe_next(data.next),
                        message="Paste an API key (or a token) to sign in.")
        try:
            await sign_in(request, authenticator, data.credential)
        except DomainError as exc:
            return page("sign_in.html", None, status_code=401, next=_safe_next(data.next),
                        message=f"Not signed in: {exc}")
        return Redirect(_safe_next(data.next), status_code=303)

    @post("/sign-out", status_code=303)
    async def sign_out(self, request: Request) -> Redirect:
        sign_out(request)
        return Redirect("/console/sign-in", status_code=303)
