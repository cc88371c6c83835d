"""Results: one JSON line per result, a readable table, and the target/floor checks of BENCH.md."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.wrk import Burst, pooled_percentile


@dataclass(frozen=True)
class Check:
    metric: str
    value: float | None
    unit: str
    target: str
    floor: str
    status: str  # "pass", "warn" (floor met, target missed), "FAIL", or "n/a"

    def record(self) -> dict[str, Any]:
        return {"kind": "check", **self.__dict__}


def median_iqr(values: Sequence[float]) -> tuple[float, float, float]:
    if not values:
        return (math.nan, math.nan, math.nan)
    if len(values) == 1:
        return (values[0], values[0], values[0])
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q2, q1, q3)


def side_summary(label: str, bursts: list[Burst]) -> dict[str, Any]:
    requests = sum(b.requests for b in bursts)
    cpu_s = sum(b.cpu_s for b in bursts)
    seconds = sum(b.duration_s for b in bursts)
    return {
        "label": label,
        "rps": round(statistics.median(b.rps for b in bursts), 1) if bursts else None,
        "requests": requests,
        # None when nothing completed (a stalled server): wrk drops requests still in flight at the end.
        "p50_ms": round(pooled_percentile(bursts, 50), 3) if requests else None,
        "p95_ms": round(pooled_percentile(bursts, 95), 3) if requests else None,
        "p99_ms": round(pooled_percentile(bursts, 99), 3) if requests else None,
        "stalled_bursts": sum(1 for b in bursts if b.requests == 0),
        "max_ms": round(max((b.latency_max_us for b in bursts), default=0) / 1000, 3),
        "cpu_us_per_req": round(cpu_s / requests * 1e6, 1) if requests else None,
        "cpu0_other_pct": round(sum(b.cpu_other_s for b in bursts) / seconds * 100, 1) if seconds else None,
        "cpu0_steal_pct": round(sum(b.cpu_steal_s for b in bursts) / seconds * 100, 1) if seconds else None,
        "non2xx": sum(b.non2xx for b in bursts),
        "failed": sum(b.failed for b in bursts),  # answers the script itself counts as failures
        "socket_errors": sum(b.socket_errors for b in bursts),
    }


def paired_record(
    meta: dict[str, Any], subject: tuple[str, list[Burst]], baseline: tuple[str, list[Burst]]
) -> dict[str, Any]:
    """A result line: the subject's numbers, the ratio to the baseline burst it was paired with."""
    ratios = [a.rps / b.rps for a, b in zip(subject[1], baseline[1], strict=True) if b.rps > 0]
    ratio, q1, q3 = median_iqr(ratios)
    own = side_summary(*subject)
    return {
        "kind": "result",
        **meta,
        "ratio": round(ratio, 3),
        "ratio_iqr": [round(q1, 3), round(q3, 3)],
        "pairs": len(ratios),
        **{k: v for k, v in own.items() if k != "label"},
        "errors": own["non2xx"] + own["socket_errors"],
        "subject": own["label"],
        "baseline": side_summary(*baseline),
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def results_table(records: list[dict[str, Any]]) -> str:
    header = ["scenario", "data", "c", "req/s", "B0 req/s", "ratio [IQR]", "p50 ms", "p95 ms", "p99 ms"]
    header += ["CPU us/req (B0)", "errors", "noise %"]
    rows = []
    for r in records:
        if r.get("kind") != "result":
            continue
        base = r["baseline"]
        rows.append(
            [
                f"{r['scenario']} {r['name']}",
                str(r["dataset"]),
                str(r["concurrency"]),
                _fmt(r["rps"], 0),
                _fmt(base["rps"], 0),
                f"{_fmt(r['ratio'])} [{_fmt(r['ratio_iqr'][0])}-{_fmt(r['ratio_iqr'][1])}]",
                _fmt(r["p50_ms"]),
                _fmt(r["p95_ms"]),
                _fmt(r["p99_ms"]),
                f"{_fmt(r['cpu_us_per_req'], 0)} ({_fmt(base['cpu_us_per_req'], 0)})",
                str(r["errors"]),
                f"{noise_pct(r):.0f}",
            ]
        )
    return _table(header, rows)


def samples_table(records: list[dict[str, Any]]) -> str:
    header = ["query", "data", "GETs", "mean count", "min-max", "mean returned", "failed"]
    rows = [
        [
            f"{r['scenario']} {r['name']}",
            str(r["dataset"]),
            str(r["samples"]),
            _fmt(r["mean_count"], 1),
            f"{_fmt(r['min_count'])}-{_fmt(r['max_count'])}",
            _fmt(r["mean_returned"], 1),
            str(r["failed"]),
        ]
        for r in records
    ]
    return _table(header, rows)


def notifications_table(records: list[dict[str, Any]]) -> str:
    """B9: one row per variant and rate; ``x a`` is PATCH/s against variant a at that rate (and, in
    parentheses, a's broker CPU per PATCH over this one's)."""
    header = ["B9 variant", "rate/s", "PATCH/s", "x a (CPU)", "PATCH p50/p99 ms", "notif/s", "e2e p50/p95/p99 ms"]
    header += ["received/expected", "lost", "backlog end/+1s", "drain s", "CPU us/PATCH", "RSS MB", "errors", "noise %"]
    rows = []
    for r in records:
        if r.get("kind") != "notify":
            continue
        ratio = f"{_fmt(r['ratio'])} ({_fmt(r.get('cpu_ratio'))})" if r.get("ratio") is not None else "-"
        rows.append(
            [
                f"{r['variant']} {r['name']}",
                str(r["rate"]),
                _fmt(r["rps"], 0),
                ratio,
                f"{_fmt(r['p50_ms'])}/{_fmt(r['p99_ms'])}",
                _fmt(r["notif_per_s"], 0),
                f"{_fmt(r['e2e_p50_ms'])}/{_fmt(r['e2e_p95_ms'])}/{_fmt(r['e2e_p99_ms'])}",
                f"{r['received']}/{r['notifications_expected']}",
                str(r["lost"]),
                f"{r['backlog_end']}/{r['backlog_1s']}",
                _fmt(r["drain_s"]),
                _fmt(r["cpu_us_per_req"], 0),
                _fmt(r["rss_mb"], 0),
                str(r["errors"]),
                f"{(r['cpu0_other_pct'] or 0) + (r['cpu0_steal_pct'] or 0):.0f}",
            ]
        )
    lines = [_table(header, rows)]
    for r in records:
        if r.get("kind") == "notify_paired":
            lines.append(
                f"B9 paired a / b, {r['pairs']} pairs of {r['burst_s']} s at {r['rate']}/s: broker CPU per PATCH"
                f" a {_fmt(r['a_cpu_us_per_req'], 0)} us, b {_fmt(r['b_cpu_us_per_req'], 0)} us, a / b"
                f" {_fmt(r['ratio'])} [{_fmt(r['ratio_iqr'][0])}-{_fmt(r['ratio_iqr'][1])}], lost {r['lost']},"
                f" errors {r['errors']}"
            )
    return "\n".join(lines)


def noise_pct(record: dict[str, Any]) -> float:
    """Share of the servers' CPU that others (and steal) took during the bursts, over both sides."""
    sides = (record, record["baseline"])
    parts = [(side.get("cpu0_other_pct") or 0.0) + (side.get("cpu0_steal_pct") or 0.0) for side in sides]
    return sum(parts) / 2


def checks_table(checks: list[Check]) -> str:
    header = ["metric", "value", "target", "floor", "result"]
    rows = [[c.metric, f"{_fmt(c.value)} {c.unit}".strip(), c.target, c.floor, c.status] for c in checks]
    return _table(header, rows)


def grade(value: float | None, target: float, floor: float | None, higher_is_better: bool) -> str:
    if value is None or math.isnan(value):
        return "n/a"

    def meets(limit: float) -> bool:
        return value >= limit if higher_is_better else value <= limit

    if meets(target):
        return "pass"
    if floor is not None and meets(floor):
        return "warn"
    return "FAIL"
