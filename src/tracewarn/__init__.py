"""tracewarn: exposure notification that warns people without anyone learning who they are."""

__version__ = "0.1.0"
