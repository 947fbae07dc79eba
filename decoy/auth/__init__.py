"""Accounts, login with two factors, sessions and tokens."""
