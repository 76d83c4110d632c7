"""What the /data pages share: the id in a path, and the redirect after a form
(post/redirect/get) that carries its message to the next page (templates/_flash.html shows
it)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import RedirectResponse

from propensity.crm.lookup import parse_id
from propensity.errors import NotFound


def path_id(raw: str, *, not_found: str, code: str | None = None) -> int:
    """The id in a path; NotFound (the message `not_found`) when it is not one."""
    found = parse_id(raw)
    if found is None:
        raise NotFound(not_found, code=code)
    return found


def redirect_with(
    path: str, *, notice: str | None = None, problem: str | None = None
) -> RedirectResponse:
    """303 to `path`, showing `notice` (done) or `problem` (refused) there."""
    message = {k: v for k, v in (("notice", notice), ("problem", problem)) if v}
    query = f"?{urlencode(message)}" if message else ""
    return RedirectResponse(f"{path}{query}", status_code=303)
