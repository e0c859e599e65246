"""The Umami-compatible read layer: Umami's parameters → medama_py's filters and queries → Umami's shapes.

Pure query and mapping code on a DuckDB cursor; it never imports the web framework (docs/umami.md).
"""
