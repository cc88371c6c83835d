"""``python -m ngsild serve --host --port --store ...``: settings, then uvicorn."""

from __future__ import annotations

import sys

from ngsild.settings import Settings
from ngsild.store.factory import UnsupportedStore, open_store


def main(argv: list[str] | None = None) -> int:
    command, settings = Settings.from_args(argv)
    if command == "serve":
        try:
            open_store(settings.store)
        except UnsupportedStore as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        import uvicorn

        from ngsild.http.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
            http="httptools",
            loop="uvloop",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
