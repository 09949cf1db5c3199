"""Services every module shares: errors, permissions, history, calendar, paging, web helpers."""
