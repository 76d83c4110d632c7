"""What the /data pages share: the redirect after a form (post/redirect/get) that carries
its message to the next page (templates/_flash.html shows it)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import RedirectResponse


def redirect_with(
    path: str, *, notice: str | None = None, problem: str | None = None
) -> RedirectResponse:
    """303 to `path`, showing `notice` (done) or `problem` (refused) there."""
    message = {k: v for k, v in (("notice", notice), ("problem", problem)) if v}
    query = f"?{urlencode(message)}" if message else ""
    return RedirectResponse(f"{path}{query}", status_code=303)
