"""Inbox (tasks and late clocks) and notifications of every staff user."""
