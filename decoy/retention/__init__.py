"""Retention: how long a contact's data is kept (the schedule, per category and case outcome), legal holds
that stop disposal, and the list of what is due for disposal."""
