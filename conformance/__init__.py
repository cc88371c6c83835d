"""Black-box NGSI-LD conformance suite (ETSI GS CIM 009 v1.9.1), organised by spec clause.

Run it against any broker with ``BROKER_URL=http://host:port pytest conformance``; without
``BROKER_URL`` the suite starts ``python -m ngsild serve`` itself, once per session.
"""
