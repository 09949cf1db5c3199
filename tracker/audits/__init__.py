"""Audits (检查): mystery-shopper visits and inspections on weighted checklists (DESIGN.md §5)."""
