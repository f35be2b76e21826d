"""Schemathesis auth hook: logs in through the demo's `/token` as johndoe with every scope, as a client of the
API would, and sends the token as `Authorization: Bearer ...` on every generated request.

The login happens once, when the hook loads: fuzzing `/token` with wrong passwords soon trips the login
throttle (429), which must not stop the hook from getting its token.
"""

import json
import os
import urllib.parse
import urllib.request

import schemathesis

BASE_URL = os.environ["SCOPES_DEMO_URL"]


def _login() -> str:
    body = urllib.parse.urlencode(
        {"grant_type": "password", "username": "johndoe", "password": "secret", "scope": "me items items:write reports admin"}
    ).encode()
    with urllib.request.urlopen(f"{BASE_URL}/token", data=body, timeout=30) as response:
        return json.load(response)["access_token"]


TOKEN = _login()


@schemathesis.auth()
class DemoLogin:
    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
