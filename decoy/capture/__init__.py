"""Capture sessions: a period in which one officer operates one decoy profile, on a named device with a
named tool, closed by the officer's statement of how complete the recording of the session is."""
