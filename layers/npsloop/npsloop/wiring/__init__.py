"""Composition roots: one module per function (``npsloop.wiring.<function>``), each importing only
what its function uses, on the shared ``container``. ``reset()`` forgets every function's components."""

from npsloop.wiring.container import reset

__all__ = ["reset"]
