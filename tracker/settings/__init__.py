"""The administrator's settings (DESIGN.md §4): the working days of every deadline clock and
the corrections (overrides) of the working-day calendar.

The tables belong to the case domain (``tracker.cases.models.DeadlineSetting`` and
``CalendarOverride``), which reads them through ``tracker.cases.deadlines``; this module is
only where an administrator changes them.
"""
