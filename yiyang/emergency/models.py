"""Models of the emergency app (to be filled in)."""
