"""The OpenAPI schema's error answers (docs/api.md, "Errors"): every operation documents the bodies
`accounts.api.errors` gives, so a generated client can trust the schema for failures too.

- 400 `{"field": ["message"]}` (a list's items may be keyed by their position) or `{"detail"}`;
- 401, 403, 404, 409, 429 `{"detail": "message"}`.
Public operations (no sign-in needed) document no 401 or 403; 409 is documented for writes only.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What is wrong, in plain English."}},
    "required": ["detail"],
}
VALIDATION = {
    "type": "object",
    "description": (
        'Either {"detail": "message"}, or each field in error with its messages: {"field": ["message"]}. '
        'Errors inside a list may be keyed by the item\'s position: {"lines": {"0": ["message"]}}.'
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
        ]
    },
}
ERRORS = {
    "400": ("ValidationError", VALIDATION, "Invalid input; nothing was changed."),
    "401": ("Error", DETAIL, "Not signed in: no token, or an expired, revoked or unknown one."),
    "403": ("Error", DETAIL, "Signed in, but this role may not do this."),
    "404": ("Error", DETAIL, "No such object, or not visible to you."),
    "409": ("Error", DETAIL, "Not possible in the object's current state (or a duplicate, or over budget)."),
    "429": ("Error", DETAIL, "Too many requests from you or your address; wait and try again."),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class CairnAutoSchema(AutoSchema):
    def _is_public(self) -> bool:
        return {} in self.get_auth() or not self.get_auth()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = self._is_public()
        for code, (name, schema, description) in ERRORS.items():
            if (
                code in responses
                or (public and code in {"401", "403"})
                or (code == "409" and self.method not in WRITES)
            ):
                continue
            component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
            self.registry.register_on_missing(component)
            responses[code] = {"description": description, "content": {"application/json": {"schema": component.ref}}}
        return responses
