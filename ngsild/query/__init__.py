"""NGSI-LD query semantics. Pure: no I/O. The only place selectors and operators are defined."""
