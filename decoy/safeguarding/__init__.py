"""Safeguarding: cases opened when a real child or a presumed victim appears, and sensitive material that is
opened only with a recorded reason and never copied into a disclosure."""
