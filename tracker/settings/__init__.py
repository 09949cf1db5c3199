"""The administrator's settings (DESIGN.md §4): the working days of every deadline clock and
the working-day calendar: corrections of single days (overrides) and the years the holiday
package does not cover but the administrator has entered (declared years).

The tables belong to the case domain (``tracker.cases.models.DeadlineSetting``,
``CalendarOverride`` and ``CalendarYear``), which reads them through
``tracker.cases.deadlines``; this module is only where an administrator changes them.
"""
