"""``dprk-kg``: the command group and the ``serve`` command; the other commands are imported by name.

Why by name, when first used: ``dprk-kg serve`` is the web process and stays resident for the
service's whole life; importing every command (pyoxigraph, the HTTP client, the canned-query machinery) there would
hold their memory for nothing. ``dprk-kg --help`` still lists every command (it imports them then).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from service import config as settings
from service.cli.store_lock import refuse_if_in_use
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


def _serve_command_line(ctx: click.Context) -> list[str]:
    """``python -m service serve`` with the options this ``serve`` was given, SUPERVISE off: what the supervisor
    runs (settings from the environment reach the child through its environment)."""
    line = [sys.executable, "-m", "service", "serve"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or param.name == "supervise" or not isinstance(param, click.Option):
            continue
        if isinstance(value, bool):
            line.append(param.opts[0] if value else param.secondary_opts[0])
        else:
            line += [param.opts[0], str(value)]
    return [*line, "--no-supervise"]


#: The other commands: name → (module, attribute), imported when the command is used or listed.
LAZY_COMMANDS = {
    "stats": ("service.cli.stats", "stats_command"),
    "validate": ("service.cli.validate", "validate_command"),
    "load": ("service.cli.validate", "load_command"),
    "query": ("service.cli.query", "query_command"),
    "sparql": ("service.cli.sparql", "sparql_command"),
    "link": ("service.cli.link", "link_group"),
    "export": ("service.cli.export", "export_command"),
    "store-check": ("service.cli.store_check", "store_check_command"),
}


class LazyGroup(click.Group):
    """A group whose commands in :data:`LAZY_COMMANDS` are imported on first use (see the module docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module, attribute = LAZY_COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    resolved = settings.resolve(config)
    store_dir = resolved.get("STORE_DIR")
    if store_dir:
        refuse_if_in_use(store_dir, "Serve another folder (--store DIR), or stop the running service first.")
    if resolved["SUPERVISE"]:
        from service.web.supervisor import exec_supervisor

        exec_supervisor(_serve_command_line(click.get_current_context()), json_lines=resolved["LOG_FORMAT"] == "json")
    try:
        serve(config)
    except MissingBundle as exc:
        raise click.ClickException(str(exc)) from exc

