"""Integration tier: the real handlers and adapters under moto, resources built from template.yaml."""

from tests.stack_support import stack, table

__all__ = ["stack", "table"]
