"""Every kind a material may have has one Vietnamese name, used by search facets and pages."""

from typing import get_args

from app.feeds import labels
from app.materials.filters import KIND_NAMES, Kind
from tests.factories import material_data


def test_every_kind_has_a_name_in_one_place():
    assert set(KIND_NAMES) == set(get_args(Kind))
    assert labels.KINDS is KIND_NAMES
    assert KIND_NAMES["rebuttal"]


def test_search_facets_name_the_rebuttal_kind(client, auth, users, session, index_now):
    body = material_data(kind="rebuttal", title="Phản bác tin sai về chính sách dân tộc")
    created = client.post("/api/v1/materials", json=body, headers=auth("editor"))
    assert created.status_code == 201, created.text
    index_now()
    facets = client.get("/api/v1/search", params={"kind": "rebuttal"}, headers=auth("editor")).json()["facets"]
    names = {f["value"]: f["name"] for f in facets["kind"]}
    assert names["rebuttal"] == KIND_NAMES["rebuttal"]
