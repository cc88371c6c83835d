"""Use cases as plain async functions over a Broker record. No Starlette imports here."""
