"""The HTTP layer's route tables, one Chalice blueprint per capability (app.py registers them)."""
