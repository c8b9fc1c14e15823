"""The key that signs the console's session cookie: GATEWAY_SECRET_KEY, or one generated once per instance folder."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

SECRET_FILE = "console-secret-key"  # noqa: S105 - the name of the file that holds it


def instance_secret(instance_path: str) -> str:
    """The instance folder's secret, created on first use.

    Several gunicorn workers may start at the same moment: each writes a candidate to a file of its own and
    links it into place; a link never replaces an existing file, so exactly one candidate wins and every
    worker reads that one.
    """
    folder = Path(instance_path)
    target = folder / SECRET_FILE
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, candidate = tempfile.mkstemp(dir=folder, prefix=f".{SECRET_FILE}.")
        try:
            with os.fdopen(descriptor, "w") as handle:  # mkstemp creates it readable by its owner only
                handle.write(secrets.token_urlsafe(48))
            os.link(candidate, target)
        except FileExistsError:
            pass  # another worker won
        finally:
            os.unlink(candidate)
    secret = target.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{target} holds no usable secret key; remove it to have a new one generated")
    return secret
