"""Accounts, roles, sessions, API tokens and login throttling."""
