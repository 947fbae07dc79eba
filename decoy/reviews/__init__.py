"""Legal reviews: generation, decisions, automatic enforcement, notifications and the calendar feed."""
