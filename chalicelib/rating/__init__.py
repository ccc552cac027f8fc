"""Rating: hits from ``chalicelib.analysis`` become findings (category × severity × scene × line ×
qualifiers) mapped onto the catalog's ages, and the file's age rating. Pure: no AWS.

``rate(document, catalog) -> Rating``; ``Category.from_entry`` turns a catalog entry (the dict
``catalog.service.render`` gives) into what the rating reads.
"""
from chalicelib.rating.engine import rate
from chalicelib.rating.model import (
    Category,
    Finding,
    Rating,
    age_for,
    exceedances,
    highest_age,
    target_advice,
)

__all__ = ["Category", "Finding", "Rating", "age_for", "exceedances", "highest_age", "rate", "target_advice"]
