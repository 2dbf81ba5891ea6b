"""Opening a local store folder from the CLI, with a plain answer when a running service has it.

Why here: ``dprk-kg load --store``, ``dprk-kg sparql --store`` and ``dprk-kg serve`` open a store folder that only
one process may hold; when a service is running on it, each says so in one sentence — which folder, what holds it,
what to run instead — and exits with :data:`STORE_IN_USE`, never with the store worker's traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.store.lock import StoreInUse, ensure_free

#: Exit status when the store is in use by another process: ``EX_TEMPFAIL`` of sysexits.h ("a temporary failure;
#: try again later"), distinct from 1 (the work failed) and 2 (bad usage or input).
STORE_IN_USE = 75


def refuse_if_in_use(store_dir: str | Path, instead: str) -> None:
    """Exit with :data:`STORE_IN_USE` and a plain message when another process has ``store_dir`` open;
    ``instead`` says what to run rather than this."""
    try:
        ensure_free(store_dir)
    except StoreInUse as exc:
        click.echo(f"error: the store at {exc.path} is in use by another process — most likely a running "
                   f"'dprk-kg serve'. Only one process may open a store folder. {instead}", err=True)
        sys.exit(STORE_IN_USE)


def open_local_store(settings: dict[str, Any], instead: str) -> Any:
    """Open the store folder ``settings['STORE_DIR']`` (its worker started), or exit as :func:`refuse_if_in_use`."""
    from service.store.client import StoreClient

    refuse_if_in_use(settings["STORE_DIR"], instead)
    return StoreClient(settings)  # a store folder: always the embedded backend
