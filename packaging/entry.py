"""Entry point of the one-file binary: `medama start [flags]`, `medama version`."""

from __future__ import annotations

from medama_py.cli import run

if __name__ == "__main__":
    run()
