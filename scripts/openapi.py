"""Print openapi.yaml for the default configuration (`make openapi`).

Outside the package on purpose: it is the only code that needs both the application factory and the
document builder, so medama_py itself never imports upwards to generate its own contract.
"""

from __future__ import annotations

import sys

from medama_py.api.openapi import render_openapi_yaml
from medama_py.app import create_app
from medama_py.config import Config


def main() -> None:
    """Write the document to stdout."""
    sys.stdout.write(render_openapi_yaml(create_app(Config())))


if __name__ == "__main__":
    main()
