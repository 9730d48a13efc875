"""letters: the correspondence engine for Norwegian debt-collection letters."""

__version__ = "0.1.0"
