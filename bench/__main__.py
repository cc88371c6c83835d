"""python -m bench [--smoke | --queries-smoke] [--scenarios B0,...,B8,SDM,B9] [--dataset N[,N...]]
[--store sqlite|mongodb] [--notify-seconds S] [--out FILE]"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from pathlib import Path
from types import FrameType

from bench import runner
from bench.wrk import WrkError


def parse(argv: list[str]) -> runner.Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--smoke", action="store_true", help="short profile: B0-B2 at 10k entities, 2-3 minutes")
    which.add_argument("--queries-smoke", action="store_true", help="B5-B7 at 1k and 10k entities, under 4 minutes")
    parser.add_argument("--scenarios", help="comma-separated, e.g. B1,B2 (default: the profile's)")
    parser.add_argument(
        "--dataset",
        help="entities to preload, e.g. 20000 or 1000,10000: B5-B7 run at each size, B1/B2 at the largest"
        " (default: B1/B2 100000, smoke 10000; B5-B7 1000,10000,100000, queries-smoke 1000,10000)",
    )
    parser.add_argument("--pairs", type=int, help="burst pairs per measurement (default 10, smoke 4)")
    parser.add_argument("--burst", type=int, help="seconds per burst (default 2, smoke 1)")
    parser.add_argument("--notify-seconds", type=int, help="B9: seconds of updates per rate (default 10)")
    parser.add_argument("--out", type=Path, help="JSON lines file (default bench/results/<sha>.jsonl)")
    parser.add_argument("--no-link", action="store_true", help="send no Link header (default: core context)")
    parser.add_argument(
        "--store",
        choices=("sqlite", "mongodb"),
        default="sqlite",
        help="the brokers' store; mongodb uses MONGO_URI, else a SecantusDB stand-in, and defaults to"
        " B1,B2 at 10k and B5,B7 at 1k entities (default sqlite)",
    )
    args = parser.parse_args(argv)
    profile = runner.SMOKE if args.smoke else runner.QUERIES_SMOKE if args.queries_smoke else runner.FULL
    if args.store == "mongodb" and not (args.smoke or args.queries_smoke):
        profile = runner.MONGODB
    if args.scenarios is None:
        scenarios = profile.scenarios
    else:
        scenarios = tuple(s.strip().upper() for s in args.scenarios.split(",") if s.strip())
    unknown = sorted(set(scenarios) - set(runner.SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(runner.SCENARIOS)}")
    changes = {"pairs": args.pairs, "burst_s": args.burst, "notify_s": args.notify_seconds}
    profile = dataclasses.replace(profile, **{k: v for k, v in changes.items() if v is not None})
    if args.dataset is not None:
        try:
            sizes = tuple(sorted({int(n) for n in args.dataset.split(",") if n.strip()}))
        except ValueError:
            parser.error(f"--dataset {args.dataset!r}: give entity counts, e.g. 1000,10000")
        if not sizes:
            parser.error("--dataset needs at least one entity count")
        profile = dataclasses.replace(profile, dataset=sizes[-1], query_datasets=sizes)
    if min(profile.query_datasets) < 1 or profile.dataset < 1 or profile.pairs < 1 or profile.burst_s < 1:
        parser.error("--dataset, --pairs and --burst must be positive")
    if profile.notify_s < 1:
        parser.error("--notify-seconds must be positive")
    suffix = "" if profile.name == "full" else f"-{profile.name}"
    if args.store == "mongodb" and profile.name != "mongodb":
        suffix += "-mongodb"
    out = args.out or runner.REPO / "bench" / "results" / f"{runner.git_sha()[0]}{suffix}.jsonl"
    return runner.Options(profile=profile, scenarios=scenarios, out=out, link=not args.no_link, store=args.store)


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    try:
        return runner.run(options)
    except WrkError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; the servers it started are stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
