"""Subcommands of the `tracewarn` CLI, one module per domain; `tracewarn.cli` wires them up."""
