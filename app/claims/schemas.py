import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.materials.schemas import Language, TagValues, Verdict
from app.schemas import Timestamp, nfc_stripped

ClaimStatus = Literal["new", "triaged", "in_progress", "rebutted", "closed", "not_false", "out_of_scope"]
Severity = Literal["low", "normal", "high", "critical"]
Title = Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=500)]
Text = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=20_000)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]


class Reporter(BaseModel):
    type: Literal["unit", "user"]
    id: uuid.UUID
    label: str


class ClaimReportCreate(BaseModel):
    """Something seen on the ground or online. Places may be codes or names."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=5000)]
    excerpt: Text = ""
    urls: Annotated[list[Url], Field(max_length=20)] = []
    platform: Annotated[str, AfterValidator(nfc_stripped), Field(max_length=100)] | None = None
    language: Language | None = None
    observed_at: Timestamp | None = None
    ethnic_groups: TagValues = []
    border_routes: TagValues = []
    provinces: TagValues = []


class SuggestedClaim(BaseModel):
    claim_id: uuid.UUID
    title: str
    score: float


class ReportAttachmentRead(BaseModel):
    id: uuid.UUID
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str


class ClaimReportRead(BaseModel):
    id: uuid.UUID
    claim_id: uuid.UUID | None
    suggested_claims: list[SuggestedClaim]
    status: Literal["new", "linked"]
    matched_by: str | None
    created_at: datetime
    reporter: Reporter
    summary: str
    excerpt: str
    urls: list[str]
    platform: str | None
    language: str | None
    observed_at: datetime | None
    ethnic_groups: list[str]
    border_routes: list[str]
    provinces: list[str]
    claim_status: str | None
    rebuttal_material_ids: list[uuid.UUID]
    attachments: list[ReportAttachmentRead]


class ClaimReportPage(BaseModel):
    items: list[ClaimReportRead]
    next_cursor: str | None


class ClaimCreate(BaseModel):
    """A claim opened by staff, usually from reports waiting for triage (`report_ids`)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    summary: Text = ""
    severity: Severity = "normal"
    lead_organisation_id: uuid.UUID | None = None
    organisation_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    assignee_id: uuid.UUID | None = None
    ethnic_groups: TagValues = []
    border_routes: TagValues = []
    provinces: TagValues = []
    report_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []


class ClaimUpdate(BaseModel):
    """Only the fields sent change. `rebutted` is set by publishing a rebuttal, not here."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    summary: Text | None = None
    status: ClaimStatus | None = None
    severity: Severity | None = None
    lead_organisation_id: uuid.UUID | None = None
    organisation_ids: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None
    assignee_id: uuid.UUID | None = None
    ethnic_groups: TagValues | None = None
    border_routes: TagValues | None = None
    provinces: TagValues | None = None


class RebuttalRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    material_id: uuid.UUID
    verdict: Verdict
    published_at: datetime
    bundle_id: uuid.UUID | None


class ClaimRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    summary: str
    status: str
    severity: str
    lead_organisation_id: uuid.UUID | None
    organisation_ids: list[uuid.UUID]
    assignee_id: uuid.UUID | None
    ethnic_groups: list[str]
    border_routes: list[str]
    provinces: list[str]
    first_reported_at: datetime
    report_count: int
    deadline_at: datetime
    overdue: bool
    triaged_at: datetime | None
    rebuttals: list[RebuttalRef]
    rebutted_at: datetime | None
    merged_into_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class ClaimPage(BaseModel):
    items: list[ClaimRead]
    next_cursor: str | None


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)]


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_id: uuid.UUID


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=20_000)]


class CommentAuthor(BaseModel):
    type: Literal["user"] = "user"
    id: uuid.UUID
    label: str


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    author: CommentAuthor
    body: str


class CommentPage(BaseModel):
    items: list[CommentRead]
    next_cursor: str | None


class TimelineEvent(BaseModel):
    """{at, event, ...}: the extra fields depend on the event."""

    model_config = ConfigDict(extra="allow")

    at: datetime
    event: str


class Timeline(BaseModel):
    claim_id: uuid.UUID
    items: list[TimelineEvent]


JsonLd = dict[str, Any]
