"""python -m bench [--smoke] [--scenarios B0,B1,B2] [--dataset N] [--out bench/results/<sha>.jsonl]"""

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
    parser.add_argument("--smoke", action="store_true", help="short profile: 10k entities, 2-3 minutes")
    parser.add_argument("--scenarios", default=",".join(runner.SCENARIOS), help="comma-separated, e.g. B1,B2")
    parser.add_argument("--dataset", type=int, help="entities to preload (default 100000, smoke 10000)")
    parser.add_argument("--pairs", type=int, help="burst pairs per measurement (default 10, smoke 4)")
    parser.add_argument("--burst", type=int, help="seconds per burst (default 2, smoke 1)")
    parser.add_argument("--out", type=Path, help="JSON lines file (default bench/results/<sha>.jsonl)")
    parser.add_argument("--no-link", action="store_true", help="send no Link header (default: core context)")
    args = parser.parse_args(argv)
    scenarios = tuple(s.strip().upper() for s in args.scenarios.split(",") if s.strip())
    unknown = sorted(set(scenarios) - set(runner.SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(runner.SCENARIOS)}")
    profile = runner.SMOKE if args.smoke else runner.FULL
    changes = {"dataset": args.dataset, "pairs": args.pairs, "burst_s": args.burst}
    profile = dataclasses.replace(profile, **{k: v for k, v in changes.items() if v is not None})
    if profile.dataset < 1 or profile.pairs < 1 or profile.burst_s < 1:
        parser.error("--dataset, --pairs and --burst must be positive")
    suffix = "" if profile.name == "full" else f"-{profile.name}"
    out = args.out or runner.REPO / "bench" / "results" / f"{runner.git_sha()[0]}{suffix}.jsonl"
    return runner.Options(profile=profile, scenarios=scenarios, out=out, link=not args.no_link)


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
