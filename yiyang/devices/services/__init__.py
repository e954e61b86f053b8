"""The devices app's actions, one module per sub-area."""
