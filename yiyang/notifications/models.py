"""Models of the notifications app (to be filled in)."""
