"""Yiyang (医养): the information platform for full-chain integrated medical and elderly care."""

__version__ = "0.1.0"
