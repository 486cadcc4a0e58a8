"""Demo package."""
from .fetch import fetch_json

__all__ = ["fetch_json"]
