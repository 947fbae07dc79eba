"""The initiative record: annotations, suggestions, assessments and the initiative sheet."""
