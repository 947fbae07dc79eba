"""Access matrix over every route."""
