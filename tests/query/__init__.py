"""Tests of ``ngsild.query``: the query languages, the regex engine, match semantics and geo relations."""
