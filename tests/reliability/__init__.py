"""Reliability: backups, faults, fuzzing."""
