"""The admin API, mounted under /admin on the AS origin: controls, profiles, events, clock,
captures, workshop progress.

The CLI (and later the dashboard) changes the running lab only through here, so
a switch flipped anywhere reaches the registry in the store, which every worker
reads per request. Every route needs the admin token from the data directory.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, jsonify, request

from lab import clock
from lab.bootstrap import ensure_admin_token, read_admin_token
from lab.capture import legs as capture_legs
from lab.capture import store as captures
from lab.config import LabConfig
from lab.controls import catalog
from lab.controls import events as lab_events
from lab.controls.registry import Registry
from lab.store.base import Store

from . import audit as admin_audit
from . import describe, workshop
from . import keys as admin_keys
from .changes import (
    AdminInputError,
    int_arg,
    known_control,
    known_profile,
    parse_advance,
    parse_control_changes,
)

REALM = "fapi-lab-admin"


def _json(payload: Any, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, error: str, description: str) -> Response:
    response = _json({"error": error, "error_description": description}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="invalid_token"'
    return response


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise AdminInputError("send a JSON body with Content-Type: application/json")
    return body


def create_blueprint(config: LabConfig, store: Store) -> Blueprint:
    """The admin routes for one lab; the token is read from `config.admin_token_path`."""
    bp = Blueprint("lab_admin", __name__)
    ensure_admin_token(config)
    captures.ensure_schema(store)
    workshop.ensure_schema(store)
    registry = Registry(store)

    @bp.before_request
    def _require_token() -> Response | None:
        # Read per request: a token file emptied, cut short or deleted while the lab runs shuts
        # the API rather than letting an empty presented token compare equal.
        expected, problem = read_admin_token(config)
        if expected is None:
            return _error(503, "admin_disabled",
                          f"admin API refuses every request: {problem}. Delete the file and "
                          f"restart the lab to get a new token.")
        token = expected.encode()
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        # Constant-time comparison: the token is the only thing between a local web page
        # and the switches of a deliberately vulnerable lab.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                presented.strip().encode("utf-8", "replace"), token):
            return _error(401, "invalid_token",
                          f"admin API: send Authorization: Bearer <token from "
                          f"{config.admin_token_path.name} in the data directory>")
        return None

    @bp.errorhandler(AdminInputError)
    def _bad_input(error: AdminInputError) -> Response:
        return _error(error.status, error.error, error.description)

    admin_keys.add_routes(bp, config, store)
    admin_audit.add_routes(bp, store)

    @bp.get("/status")
    def status() -> Response:
        return _json(describe.status(config, store))

    @bp.get("/controls")
    def list_controls() -> Response:
        return _json(describe.controls(registry))

    @bp.get("/controls/<control_id>")
    def show_control(control_id: str) -> Response:
        if control_id not in catalog.BY_ID:
            return _error(404, "unknown_control", f"unknown control {control_id!r}")
        return _json(describe.control_detail(catalog.get(control_id), registry))

    @bp.post("/controls")
    def change_controls() -> Response:
        changes = parse_control_changes(_body())
        notes = changes.apply(registry)
        snap = registry.snapshot()
        return _json({"notes": notes, "profile": snap["profile"], "enabled": snap["enabled"],
                      "changed": {cid: registry.is_on(cid) for cid in changes.switches}})

    @bp.get("/profiles")
    def list_profiles() -> Response:
        return _json(describe.profile_list(registry))

    @bp.post("/profile")
    def apply_profile() -> Response:
        body = _body()
        if not isinstance(body, dict) or "name" not in body:
            raise AdminInputError('send {"name": "<profile>"}')
        name = known_profile(body["name"])
        enabled = registry.apply_profile(name)
        return _json({"profile": name, "enabled": sorted(enabled)})

    @bp.get("/events")
    def list_events() -> Response:
        args = request.args
        control = args.get("control") or None
        if control is not None:
            known_control(control)
        found = lab_events.list_events(
            store, request_id=args.get("request_id") or None, control=control,
            since_id=int_arg("since", args.get("since"), 0, 0, 2**62),
            limit=int_arg("limit", args.get("limit"), 200, 1, 10_000))
        last = found[-1].id if found else int_arg("since", args.get("since"), 0, 0, 2**62)
        return _json({"events": [describe.event(e) for e in found], "last_id": last})

    @bp.get("/clock")
    def show_clock() -> Response:
        return _json(describe.clock_state(store))

    @bp.post("/clock/advance")
    def advance_clock() -> Response:
        seconds = parse_advance(_body())
        try:
            clock.advance(store, seconds)
        except ValueError as error:
            raise AdminInputError(str(error)) from None
        return _json({"advanced": seconds, **describe.clock_state(store)})

    @bp.post("/clock/reset")
    def reset_clock() -> Response:
        clock.reset(store)
        return _json(describe.clock_state(store))

    @bp.get("/captures")
    def list_captures() -> Response:
        leg = request.args.get("leg") or None
        if leg is not None and leg not in capture_legs.LEGS:
            raise AdminInputError(f"unknown leg {leg!r} (known: {', '.join(capture_legs.LEGS)})")
        since = int_arg("since", request.args.get("since"), 0, 0, 2**62)
        found = captures.list_captures(
            store, leg=leg, since_id=since,
            limit=int_arg("limit", request.args.get("limit"), 200, 1, 10_000))
        return _json({"captures": found, "last_id": found[-1]["id"] if found else since,
                      "newest_id": captures.newest_id(store)})

    @bp.get("/captures/<int:capture_id>")
    def show_capture(capture_id: int) -> Response:
        # Past SQLite's 64-bit integers the lookup itself would raise (a 500): no such row.
        row = captures.get_capture(store, capture_id) if capture_id < 2**63 else None
        if row is None:
            return _error(404, "not_found", f"no capture {capture_id}")
        return _json(row)

    @bp.get("/workshop")
    def workshop_progress() -> Response:
        return _json(workshop.progress(store))

    @bp.post("/workshop/<int:number>")
    def workshop_step(number: int) -> Response:
        return _json(workshop.record(store, number, _body()))

    return bp
