"""Admin routes for the AS signing keys: list them, rotate them (`fapi-lab keys`).

The rotation runs in the lab (lab.protocol.key_rotation, under the key file's flock), never
in the CLI's process, so the lab clock, the token lifetimes of the current switches and the
file every worker reads are the lab's own.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from lab import keys
from lab.config import LabConfig
from lab.protocol import key_rotation
from lab.store.base import Store
from lab.tpp import secret_rotation

from .changes import AdminInputError


def _json(payload: object) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_fields() -> None:
    """These actions take no input: an empty body or `{}`; anything else is a clear 400, not
    something silently ignored (a caller who sent fields expected them to matter)."""
    if not request.get_data(cache=True):
        return
    body = request.get_json(silent=True)
    if body is None:
        raise AdminInputError("send no body, or the JSON object {} with Content-Type: "
                              "application/json")
    if body != {}:
        raise AdminInputError("this action takes no fields: send {} or no body")


def add_routes(bp: Blueprint, config: LabConfig, store: Store) -> None:
    @bp.get("/keys")
    def list_keys() -> Response:
        return _json({"keys": key_rotation.listing(config, store)})

    @bp.post("/keys/rotate")
    def rotate_keys() -> Response:
        _no_fields()
        try:
            return _json(key_rotation.rotate(config, store))
        except keys.RotationInProgress as busy:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(busy.retire_at))
            raise AdminInputError(
                f"a rotation is in progress: key {busy.kid} is still published until {when} "
                f"(lab clock), for tokens it signed. Rotate again after it retires (or move "
                f"the lab clock past it with `fapi-lab clock advance`).",
                409, "rotation_in_progress") from None

    @bp.post("/tpp/rotate-secret")
    def rotate_tpp_secret() -> Response:
        """FinLens rotates its client secret at HonestBank now (RFC 7592 PUT), due or not."""
        _no_fields()
        try:
            return _json(secret_rotation.rotate(config))
        except secret_rotation.RotationError as error:
            raise AdminInputError(f"FinLens could not rotate its secret: {error}", 409,
                                  "rotation_failed") from None
