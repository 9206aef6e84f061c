"""gunicorn's settings for Cairn; gunicorn reads this file by itself when started from the project
folder (`gunicorn marketplace.wsgi`).

gunicorn names itself in a `Server` header on every response and has no setting to stop it; an
attacker learns which server (and so which flaws) to try. Its header list is filtered here so
responses carry no `Server` header (docs/security.md, "Headers").
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _default_headers_without_server
