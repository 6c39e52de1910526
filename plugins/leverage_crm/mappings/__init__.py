"""Bundled CRM mappings (TOML), read with importlib.resources."""
