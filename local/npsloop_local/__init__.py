"""npsloop_local: run the SAM app offline - moto for AWS, in-process Lambda, a local HTTP API.

Developer tooling only (never deployed). ``LocalStack`` reads template.yaml, creates its resources
in moto, and invokes the real handlers with real-shaped Lambda events.
"""

from .stack import LocalStack

__all__ = ["LocalStack"]
