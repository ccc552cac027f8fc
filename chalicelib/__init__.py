"""Kadr: the code the Lambda functions run (app.py only wires it to events)."""
