"""The ``dprk-kg`` command line: a thin click layer over plain functions.

Commands contributed by other modules are listed in :data:`COMMANDS` and added when
their module is present, so each concern owns its command next to its code.
Exit codes mean something: 0 success, 1 the data does not conform / the check failed,
2 unreadable input or bad usage.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from . import config as settings

#: (module, attribute) of each command other modules contribute.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("service.stats", "stats_command"),
    ("service.cli_validate", "validate_command"),
    ("service.cli_validate", "load_command"),
    ("service.canned_cli", "query_command"),
    ("service.linking.cli", "link_group"),
    ("service.void", "export_command"),
)

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
    from .server import serve

    config: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        setting = settings.SETTINGS_BY_KEY[key.upper()]
        try:
            config[setting.key] = setting.parse(value) if isinstance(value, str) else value
        except (ValueError, TypeError) as exc:
            raise click.BadParameter(str(exc), param_hint=OPTION_NAMES.get(setting.key, key)) from exc
    serve(config)


def _register_commands() -> None:
    for module_name, attribute in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        command = getattr(module, attribute, None)
        if command is not None:
            main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
