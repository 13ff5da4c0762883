"""Service functions: the workflows. Views call exactly one of these."""
