"""Contacts, messages and attachments: the evidence."""
