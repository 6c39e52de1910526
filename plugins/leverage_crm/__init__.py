"""Built-in plugin leverage_crm (wiring only so far)."""
