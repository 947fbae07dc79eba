"""Disclosure: verbalisant codes, disclosure classes, the internal journal and what an export may hold."""
