"""The root of the `gateway` command: builds the app from GATEWAY_* settings for each command."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import FlaskGroup

from gateway import create_app
from gateway.config import ConfigError
from gateway.runtime import EXTENSION
from gateway.services import sandbox


def _create_app() -> Any:
    try:
        app = create_app()
    except ConfigError as error:  # one line naming the setting and the rule, not a traceback
        raise click.ClickException(str(error)) from None
    if app.config["GATEWAY"]["SANDBOX"]:  # every command of a sandbox gateway runs at the sandbox's time
        sandbox.follow_once_migrated(app.extensions[EXTENSION]["store"])
    return app


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,  # Flask's run, shell and routes: `gateway serve` is how the gateway runs
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Partner integration gateway. Settings come from GATEWAY_* environment variables.",
)
# FlaskGroup always adds Flask's developer options (-e/--env-file, -A/--app, --debug); the gateway builds its
# one app from GATEWAY_* settings, so they are taken out of its command line and its --help.
cli.params = [param for param in cli.params if param.name not in ("env_file", "app", "debug")]
cli = click.version_option(package_name="partner-gateway", prog_name="gateway")(cli)
