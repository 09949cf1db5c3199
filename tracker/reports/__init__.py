"""Reports and publication: unit PDF reports, dashboards, Excel ledgers, bulletins (DESIGN.md §7)."""
