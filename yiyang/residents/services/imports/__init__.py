"""Resident import from Excel or CSV (ADR 0013)."""
