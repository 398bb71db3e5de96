import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from app.materials import languages
from app.materials.filters import Classification, Kind, Status
from app.schemas import Schedule, Timestamp, nfc_stripped, not_null
from app.text import nfc
from app.urls import api_path


def _language(tag: str) -> str:
    # Raising ValueError makes pydantic report it at body.language with this message.
    try:
        return languages.normalise(tag, ["body", "language"])
    except Exception as exc:
        raise ValueError(getattr(exc, "detail", str(exc))) from None


Title = Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=500)]
Summary = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=5000)]
Body = Annotated[str, AfterValidator(nfc), Field(max_length=500_000)]
Language = Annotated[str, Field(min_length=1, max_length=35), AfterValidator(_language)]
TagValues = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=60)]
Source = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=1000)]
Verdict = Literal["false", "misleading", "missing_context", "true"]


class RebutItem(BaseModel):
    """A claim a rebuttal answers, and what the rebuttal found it to be."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    claim_id: uuid.UUID
    verdict: Verdict


def _claims_once(items: list[RebutItem] | None) -> list[RebutItem] | None:
    seen: set[uuid.UUID] = set()
    for item in items or []:
        if item.claim_id in seen:
            raise ValueError(f"claim {item.claim_id} is named twice; give each claim one verdict")
        seen.add(item.claim_id)
    return items


Rebuts = Annotated[list[RebutItem], Field(max_length=100), AfterValidator(_claims_once)]


class MaterialCreate(Schedule):
    """Taxonomy values may be codes, names or other names; they are stored as codes and ids."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    summary: Summary = ""
    body: Body = ""
    kind: Kind
    language: Language
    ethnic_groups: TagValues = []
    border_routes: TagValues = []
    provinces: TagValues = []
    topics: TagValues = []
    classification: Classification = "public"
    publish_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    source: Source | None = None
    rebuts: Rebuts = []

    @model_validator(mode="after")
    def _rebuts_only_for_rebuttals(self) -> Self:
        if self.rebuts and self.kind != "rebuttal":
            raise ValueError("rebuts is for materials of kind rebuttal")
        return self

    translation_of: uuid.UUID | None = Field(
        default=None, description="The id of the material this one translates (a source, in another language)"
    )


# What a material always has: a PATCH may leave these out, never set them to null.
REQUIRED_FIELDS = ("title", "kind", "language", "classification", "summary", "body", "rebuts")


class MaterialUpdate(Schedule):
    """Every field optional; only the fields sent are changed (applied with exclude_unset)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    summary: Summary | None = None
    body: Body | None = None
    kind: Kind | None = None
    language: Language | None = None
    ethnic_groups: TagValues | None = None
    border_routes: TagValues | None = None
    provinces: TagValues | None = None
    topics: TagValues | None = None
    classification: Classification | None = None
    publish_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    source: Source | None = None
    rebuts: Rebuts | None = None
    translation_of: uuid.UUID | None = None

    _required_stay_set = field_validator(*REQUIRED_FIELDS)(not_null)


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    media_type: str
    size: int
    sha256: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return api_path(f"/attachments/{self.id}/content")


class MaterialRead(BaseModel):
    # Validated from a Material (its tag lists are properties of the ORM object) or from a
    # revision's snapshot, which is this model dumped as JSON.
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    summary: str
    body: str
    kind: str
    language: str
    ethnic_groups: list[str]
    border_routes: list[str]
    provinces: list[str]
    topics: list[str]
    classification: str
    status: str
    publish_at: datetime | None
    expires_at: datetime | None
    published_at: datetime | None
    source: str | None
    is_demo: bool
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None
    version: int
    translation_of: uuid.UUID | None = None
    attachments: list[AttachmentRead]
    rebuts: list[RebutItem] = []


class MaterialPage(BaseModel):
    items: list[MaterialRead]
    next_cursor: str | None


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Status


class RevisionRead(MaterialRead):
    """One saved version, whole: the material's fields as they were then (`version` is the
    revision's), with when, by whom and why it was saved."""

    saved_at: datetime
    saved_by: uuid.UUID | None
    change: str = Field(description="created, updated, imported, transition:<status> or attachment")

    @classmethod
    def of(cls, revision: Any) -> "RevisionRead":
        """From a MaterialRevision, whose snapshot is MaterialRead as JSON."""
        saved = {"saved_at": revision.saved_at, "saved_by": revision.saved_by, "change": revision.change}
        return cls.model_validate({**revision.snapshot, "version": revision.version, **saved})


class RevisionPage(BaseModel):
    items: list[RevisionRead]
    next_cursor: str | None


class TranslationMember(BaseModel):
    id: uuid.UUID
    title: str
    language: str
    status: str
    published_at: datetime | None
    is_source: bool


class TranslationFamily(BaseModel):
    """A source and every translation of it, the source first, then by language."""

    source_id: uuid.UUID
    languages: list[str] = Field(description="Every language the family exists in, sorted")
    published_languages: list[str] = Field(description="The languages with a published member")
    items: list[TranslationMember]
    # The whole family is one page (a few languages at most); the key is there so that a client
    # reading every list alike finds it.
    next_cursor: None = Field(default=None, description="Always null: the family is listed whole")
