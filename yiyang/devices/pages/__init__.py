"""The devices app's pages, one module per sub-area."""
