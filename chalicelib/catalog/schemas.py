"""Request and response bodies of the catalog routes; the Excel reader validates rows with the
same ``ViolationIn`` model, so a row and a JSON body obey one set of rules."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.catalog import rules


def _clean(value: Any) -> Any:
    return rules.clean(value) if isinstance(value, str) else value


def _empty_is_none(value: Any) -> Any:
    value = _clean(value)
    return None if value == "" else value


def _not_reserved(value: str) -> str:
    if value in rules.RESERVED_IDS:
        raise ValueError(f"{value!r} is reserved (a route under /violations)")
    return value


def _sorted_ages(ages: list[str]) -> list[str]:
    return sorted(set(ages), key=rules.age_rank)


ViolationId = Annotated[str, BeforeValidator(_clean), StringConstraints(pattern=rules.ID_PATTERN),
                        AfterValidator(_not_reserved),
                        Field(description="The workbook's id (\"12\") or the project's (\"violence.graphic\")",
                              examples=["violence.graphic"])]
Name = Annotated[str, BeforeValidator(_clean), StringConstraints(min_length=1, max_length=rules.MAX_NAME)]
Text = Annotated[Annotated[str, StringConstraints(max_length=rules.MAX_TEXT)] | None, BeforeValidator(_empty_is_none)]
Duty = Annotated[Annotated[str, StringConstraints(max_length=rules.MAX_ITEM)] | None, BeforeValidator(_empty_is_none)]
Factor = Annotated[str, BeforeValidator(_clean),
                   StringConstraints(min_length=1, max_length=rules.MAX_ITEM, pattern=r"^[^,;]+$")]
Lexicon = Annotated[str, StringConstraints(pattern=rules.LEXICON_PATTERN)]
Age = Literal["0+", "6+", "12+", "16+", "18+"]


class ViolationIn(BaseModel):
    """A category without its id (``PUT /violations/{id}``)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="The category (the workbook's `violations` column)")
    context: Text = Field(None, description="What it looks like in a screenplay")
    ages: Annotated[list[Age], AfterValidator(_sorted_ages)] = Field(
        default_factory=list, max_length=len(rules.AGES),
        description="Age bands, mildest to most severe: severity maps onto them (mild -> lowest)")
    labelling: Duty = Field(None, description="A labelling duty instead of (or beside) an age band",
                            examples=["Требует маркировки"])
    factors: list[Factor] = Field(default_factory=list, max_length=rules.MAX_ITEMS,
                                  description="What raises or lowers severity (the workbook's `mark` column)")
    basis: Text = Field(None, description="The 436-FZ article, part and point", examples=["ст. 5 ч. 2 п. 6"])
    lexicons: list[Lexicon] = Field(default_factory=list, max_length=rules.MAX_ITEMS,
                                    description="Names of the analyzer's lexicon entries that detect it")

    @model_validator(mode="after")
    def _rated(self) -> "ViolationIn":
        if not self.ages and not self.labelling:
            raise ValueError("give at least one age band (0+, 6+, 12+, 16+, 18+) or a labelling duty")
        return self


class ViolationCreate(ViolationIn):
    """A new category (``POST /violations``)."""

    id: ViolationId


class ViolationOut(ViolationCreate):
    created_at: str
    updated_at: str


class ViolationList(BaseModel):
    count: int
    results: list[ViolationOut]


class ImportReport(BaseModel):
    """What an import did: every row of the workbook is in exactly one of the three counts."""

    count: int = Field(description="Rows in the workbook")
    created: int
    updated: int
    unchanged: int
    sheet: str = Field(description="The sheet that was read (the workbook's first)")
