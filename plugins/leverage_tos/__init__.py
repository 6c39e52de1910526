"""Built-in plugin leverage_tos (wiring only so far)."""
