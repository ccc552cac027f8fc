"""Bulk uploads: one task, many files for several accounts, per-account logs and a report."""
