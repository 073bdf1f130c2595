"""Subcommands of ``ncp-control``.

Each module in this package defines ``register(subparsers)``, which adds one or more
subcommands with ``set_defaults(func=...)``; ``scripts.cli`` discovers them.
"""
