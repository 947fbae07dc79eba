"""Imports of a platform\x27s own export into one contact."""
