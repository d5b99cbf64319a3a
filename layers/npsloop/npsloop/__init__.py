"""npsloop: the feedback loop's business logic, shipped to Lambda as a layer."""

__version__ = "0.1.0"
