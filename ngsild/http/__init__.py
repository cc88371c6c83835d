"""The Starlette edge: parse a request, call one service, render the result."""
