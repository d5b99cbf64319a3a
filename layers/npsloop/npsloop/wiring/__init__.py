"""Composition roots of the later areas: one module per function family, each built with
``npsloop.runtime.component`` so that ``runtime.reset()`` starts them afresh."""
