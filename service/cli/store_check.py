"""``dprk-kg store-check``: has anyone written to the remote store behind the service's back?

Why a command: every guarded write through the service records a fingerprint of the dataset it leaves (a quad count
and an order-independent hash, :class:`service.store.remote.Fingerprint`) beside the store's version, and the next
write finds an outside change — but a store nobody writes to through the service would never be checked. An
operator runs this from cron: it reads the store once, compares, and says so by its exit status. ``--refresh``
accepts the store as it now is: the new fingerprint is recorded and the version replaced, so every instance's
caches are emptied within STORE_VERSION_TTL.
"""

from __future__ import annotations

import sys
from typing import Any

import click

#: Exit statuses: the store is as the service left it (or ``--refresh`` recorded it); it was changed behind the
#: service's back (or holds no fingerprint yet); the store could not be read. 2 is click's bad usage.
UNCHANGED, CHANGED, UNREADABLE = 0, 1, 3


@click.command("store-check")
@click.option("--store-url", metavar="URL", default=None,
              help="SPARQL query endpoint of the remote store [env: DPRK_KG_STORE_URL].")
@click.option("--update-url", metavar="URL", default=None,
              help="SPARQL Update endpoint, where it differs [env: DPRK_KG_UPDATE_URL] (needed by --refresh).")
@click.option("--refresh", is_flag=True, default=False,
              help="Accept the store as it is: record its fingerprint and replace its version (caches refresh).")
def store_check_command(store_url: str | None, update_url: str | None, refresh: bool) -> None:
    """Check whether the remote store was written to behind the service's back (exit 0: no, 1: yes, 3: unreadable).

    Credentials come from DPRK_KG_STORE_USER and DPRK_KG_STORE_PASSWORD, as for the service.
    """
    from service.config import resolve
    from service.store.client import StoreError
    from service.store.remote import RemoteStore

    given: dict[str, Any] = {"LOAD_DATA": False}
    if store_url:
        given["STORE_URL"] = store_url
    if update_url:
        given["UPDATE_URL"] = update_url
    settings = resolve(given)
    if not settings.get("STORE_URL"):
        raise click.UsageError("give the remote store's query endpoint: --store-url URL (or DPRK_KG_STORE_URL)")
    try:
        store = RemoteStore(settings)
        recorded, seen, refreshed = store.check(refresh=refresh)
    except StoreError as exc:
        click.echo(f"error: could not check the store: {exc.message}", err=True)
        sys.exit(UNREADABLE)
    except ValueError as exc:  # a URL that is not http(s)
        raise click.UsageError(str(exc)) from exc
    if recorded == seen:
        click.echo(f"unchanged: the store holds {seen.count} quads, as the last write through the service left it")
        sys.exit(UNCHANGED)
    if recorded is None:
        difference = (f"no fingerprint is recorded in the store yet (no write through the service since it began "
                      f"recording one); it holds {seen.count} quads")
    elif recorded.count != seen.count:
        difference = (f"changed behind the service's back: the last write through the service left {recorded.count} "
                      f"quads, the store now holds {seen.count} ({seen.count - recorded.count:+d})")
    else:
        difference = (f"changed behind the service's back: the store holds {seen.count} quads as the last write "
                      f"through the service left, but not the same ones")
    if refreshed:
        click.echo(f"{difference}; recorded the store as it is now and replaced its version (every instance's "
                   f"caches refresh within STORE_VERSION_TTL)")
        sys.exit(UNCHANGED)
    click.echo(f"{difference}. Run 'dprk-kg store-check --refresh' to accept it.", err=True)
    sys.exit(CHANGED)
