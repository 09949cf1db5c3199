"""Demo and default data for a fresh installation (pure data modules, stdlib only)."""
