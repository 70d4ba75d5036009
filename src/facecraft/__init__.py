"""Facecraft: self-hosted portrait processing."""

__version__ = "0.1.0"
