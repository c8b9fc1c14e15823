"""Writes the OpenAPI document the code generates to contracts/openapi.json (`make spec`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway import create_app

COMMITTED_SPEC = Path(__file__).with_name("openapi.json")


def generated_spec() -> dict[str, Any]:
    """The document as the app serves it at /openapi.json; building it touches no database."""
    app = create_app({"DATABASE_URL": "sqlite://"})
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    COMMITTED_SPEC.write_text(render(generated_spec()), encoding="utf-8")
    print(f"wrote {COMMITTED_SPEC}")


if __name__ == "__main__":
    main()
