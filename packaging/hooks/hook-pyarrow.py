"""pyarrow for medama_py: Arrow tables handed to DuckDB; replaces the stock hook (hooks-contrib).

The stock hook collects every submodule, data file and shared library: Arrow Flight (32 MB) and the
S3 filesystem (17 MB) included, plus headers and Cython sources. pyarrow.lib links the core libraries
itself (arrow, compute, acero, dataset, parquet, substrait), so PyInstaller's binary analysis brings
those in; here we only list the Python modules that compiled code imports by name.
"""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_submodules  # type: ignore[import-untyped]

# Left out: network filesystems and Flight (their own big libraries), CUDA, tests and benchmarks.
_LEFT_OUT = ("flight", "_s3fs", "_gcsfs", "_azurefs", "_hdfs", "cuda", "tests", "conftest", "benchmark", "cpp_tests")


def _wanted(name: str) -> bool:
    return not any(part in name for part in _LEFT_OUT)


hiddenimports: list[str] = collect_submodules("pyarrow", filter=_wanted)
excludedimports = ["pyarrow.flight", "pyarrow._flight", "pyarrow._s3fs", "pyarrow.cuda", "pyarrow.tests"]
