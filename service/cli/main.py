"""``dprk-kg``: the command group and the ``serve`` command; the other commands are imported by name.
"""

from __future__ import annotations

from typing import Any

import click

from service import config as settings
from service.cli.export import export_command
from service.cli.link import link_group
from service.cli.query import query_command
from service.cli.sparql import sparql_command
from service.cli.stats import stats_command
from service.cli.store_lock import refuse_if_in_use
from service.cli.validate import load_command, validate_command
from service.rdf.dataset import MissingBundle

#: Option names that read better than the mechanical ``--<key>`` form.
OPTION_NAMES = {"STORE_DIR": "--store", "LOAD_DATA": "--data/--no-data"}


def _option_for(setting: settings.Setting) -> Any:
    """A click option for one setting; its environment twin is read by :mod:`service.config`."""
    name = OPTION_NAMES.get(setting.key, "--" + setting.key.lower().replace("_", "-"))
    help_text = f"{setting.help} [env: {setting.env}; default: {setting.default!r}]"
    if setting.default is True or setting.default is False:
        if "/" not in name:
            name = f"{name}/--no-{name[2:]}"
        return click.option(name, setting.key.lower(), default=None, help=help_text)
    if setting.choices:
        return click.option(name, setting.key.lower(), type=click.Choice(setting.choices), default=None,
                            help=help_text)
    return click.option(name, setting.key.lower(), default=None, help=help_text)


def _serve_options(func: Any) -> Any:
    for setting in reversed(settings.SETTINGS):
        func = _option_for(setting)(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dprk-japan-kg")
def main() -> None:
    """dprk-japan-kg: a sourced knowledge graph of North Korea–Japan relations."""


@main.command("serve")
@_serve_options
def serve_command(**options: Any) -> None:
    """Serve the SPARQL endpoint, canned queries and validation on the embedded store."""
    from service.web.server import serve

    config: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        setting = settings.SETTINGS_BY_KEY[key.upper()]
        try:
            config[setting.key] = setting.parse(value) if isinstance(value, str) else value
        except (ValueError, TypeError) as exc:
            raise click.BadParameter(str(exc), param_hint=OPTION_NAMES.get(setting.key, key)) from exc
    store_dir = settings.resolve(config).get("STORE_DIR")
    if store_dir:
        refuse_if_in_use(store_dir, "Serve another folder (--store DIR), or stop the running service first.")
    try:
        serve(config)
    except MissingBundle as exc:
        raise click.ClickException(str(exc)) from exc


for _command in (stats_command, validate_command, load_command, query_command, sparql_command, link_group,
                 export_command):
    main.add_command(_command)
