"""A key rotation during a workload (`fapi-lab load --rotate-keys-after N`), as the results show it.

loadtests/rotation.py records, in the workload's summary, the request and failure counts
when it rotated the AS key and at the end; here they become before/after figures: requests,
failures and req/s on each side of the rotation, and how many requests used (or, for the
token workloads, got) a token signed by the new key.
"""

from __future__ import annotations

from typing import Any

NEW_KEY = "(new key)"


def _num(raw: dict[str, Any], key: str) -> float:
    try:
        return float(raw.get(key) or 0)
    except (TypeError, ValueError):
        return 0.0


def figures(raw: Any, steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Before/after figures from the summary's "rotation" entry and its rows of statistics."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {"after_requests": raw.get("after_requests"),
                           "rotated": bool(raw.get("rotated")),
                           "new_key_requests": sum(int(_num(s, "requests")) for s in steps
                                                   if NEW_KEY in str(s.get("name")))}
    for key in ("new_kid", "old_kid", "error", "refresh_error", "publish_ahead_seconds",
                "new_key_token_at_requests"):
        if raw.get(key) is not None:
            out[key] = raw[key]
    if "at" not in raw:
        return out
    at, started = _num(raw, "at"), _num(raw, "started")
    ended = max(_num(raw, "ended"), at)
    before, after = int(_num(raw, "requests_before")), int(_num(raw, "requests_total"))
    failed_before = int(_num(raw, "failures_before"))
    out.update(requests_before=before, requests_after=max(after - before, 0),
               failures_before=failed_before,
               failures_after=max(int(_num(raw, "failures_total")) - failed_before, 0),
               rps_before=round(before / (at - started), 1) if at > started else 0.0,
               rps_after=round((after - before) / (ended - at), 1) if ended > at else 0.0)
    return out


def line(workload: str, rotation: dict[str, Any]) -> str:
    """One line under the workload's figures."""
    if not rotation.get("rotated"):
        why = rotation.get("error") or (f"the workload made fewer than "
                                        f"{rotation.get('after_requests')} requests")
        return f"{'':<12} key rotation: NOT done ({why})"
    text = (f"{'':<12} key rotated after {rotation.get('requests_before', 0)} requests "
            f"({rotation.get('old_kid', '?')[:10]}… → {rotation.get('new_kid', '?')[:10]}…): "
            f"before {rotation.get('failures_before', 0)} failures, "
            f"{rotation.get('rps_before', 0):.1f} req/s; after "
            f"{rotation.get('failures_after', 0)}/{rotation.get('requests_after', 0)} failures, "
            f"{rotation.get('rps_after', 0):.1f} req/s; "
            f"{rotation.get('new_key_requests', 0)} with new-key tokens")
    if rotation.get("refresh_error"):
        text += f" (refresh into a new-key token refused: {rotation['refresh_error']})"
    return text


def markdown(results: list[Any]) -> list[str]:
    """A table of the rotations in a run; nothing when none was asked for."""
    rows = [(r.workload, r.rotation) for r in results if r.rotation]
    if not rows:
        return []
    md = ["", "### AS key rotation during the run", "",
          "| workload | rotated | after requests | failures before | requests after | "
          "failures after | req/s before | req/s after | new-key requests |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rot in rows:
        done = "yes" if rot.get("rotated") else f"no: {rot.get('error') or 'not reached'}"
        md.append(f"| {name} | {done} | {rot.get('requests_before', '-')} | "
                  f"{rot.get('failures_before', '-')} | {rot.get('requests_after', '-')} | "
                  f"{rot.get('failures_after', '-')} | {rot.get('rps_before', '-')} | "
                  f"{rot.get('rps_after', '-')} | {rot.get('new_key_requests', 0)} |")
    return md
