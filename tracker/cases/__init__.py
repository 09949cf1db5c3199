"""Cases: intake from every channel and the accountability workflow (DESIGN.md §2–§4, §6)."""
