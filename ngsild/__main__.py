"""``python -m ngsild serve --host --port --store ...``: settings, then uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

from ngsild.services.admission import parse_policies
from ngsild.settings import Settings
from ngsild.store.factory import UnsupportedStore, open_store


def main(argv: list[str] | None = None) -> int:
    command, settings = Settings.from_args(argv)
    if command == "serve":
        try:
            open_store(settings.store, **settings.store_options)
            parse_policies(settings.validation, settings.validation_types)
        except (UnsupportedStore, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if settings.datamodels is not None and not Path(settings.datamodels).is_dir():
            print(f"error: --datamodels {settings.datamodels}: no such directory", file=sys.stderr)
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
