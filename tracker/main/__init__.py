"""Home page and help pages."""
