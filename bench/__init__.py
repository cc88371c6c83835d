"""Benchmark harness for the NGSI-LD broker (method: /work/shared/BENCH.md).

Run with ``python -m bench`` (full profile) or ``python -m bench --smoke``.
"""
