"""Built-in plugin leverage_graphviz (wiring only so far)."""
