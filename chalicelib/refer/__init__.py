"""Refer keys: the analyzer's short-lived, rotating, capped way in to a stored file."""
