"""What the reference-data routes return. Derogatory names (`hidden_names`) have no field here."""

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict


class EthnicGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    code_1979: str
    name: str
    name_ascii: str
    other_names: list[str]
    language_family: str
    population_2019: int | None
    is_minority: bool


class EthnicGroupPage(BaseModel):
    items: list[EthnicGroupRead]
    next_cursor: str | None = None


class BorderRouteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    neighbor_country: str
    neighbor_country_vi: str
    length_km: float | None
    length_precision: str


class BorderRoutePage(BaseModel):
    items: list[BorderRouteRead]
    next_cursor: str | None = None


class ProvinceRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    name_ascii: str
    unit_type: str
    valid_from: date | None
    valid_until: date | None
    border_routes: list[str]
    successors: list[uuid.UUID]
    merged_from: list[uuid.UUID]


class ProvincePage(BaseModel):
    items: list[ProvinceRead]
    next_cursor: str | None = None


class TopicRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    name_en: str


class TopicPage(BaseModel):
    items: list[TopicRead]
    next_cursor: str | None = None
