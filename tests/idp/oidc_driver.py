"""Drive oidc-provider's development sign-in pages with plain HTTP, as a browser would."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import requests


def _form(page: str) -> tuple[str, dict[str, str]]:
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', page).group(1))
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(
            r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page
        )
    }
    return action, fields


def sign_in_at_op(authorize_url: str, login: str, stop_prefix: str) -> str:
    """Follow the OP from `authorize_url`, sign in as `login`, consent; return our callback URL."""
    session = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(stop_prefix):
                return url
            method, data = "GET", None
            continue
        page = response.text
        action, fields = _form(page)
        if 'name="login"' in page:
            fields.update(login=login, password="any")
        url, method, data = urljoin(url, action), "POST", fields
    raise AssertionError("the OP never redirected back")
