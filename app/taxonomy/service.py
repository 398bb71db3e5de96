"""The taxonomy's rules: what a user's value for an ethnic group, border route, province or topic
means, and the reference tables read for lists, facets and display.

Resolution follows API.md; the first level that matches wins:
(1) code or id; (2) name or spelling variant, exactly (case-insensitive, NFC); (3) name or spelling
variant without diacritics, hyphens, apostrophes or spaces (`app.text.squash`); (4) other name,
exactly; (5) other name without diacritics. Two candidates at one level are a 422 listing them.

The tables are tiny (54 + 3 + ~60 + 10 rows) and change only when seeded. The functions here that
take a session read them afresh; `ReferenceData` is what the busiest callers (search filters and
facet names, on every search) need of them, read in one go, for a per-application memory
(app/taxonomy/cache.py) that keeps it as long as the reference lists' JSON.
"""

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.taxonomy.models import BorderRoute, EthnicGroup, Province, ProvinceSuccession, Topic
from app.text import fold, nfc, query_words, squash

Node = TypeVar("Node", bound=Hashable)

Loc = Sequence[str | int]

# Province validity is a matter of Vietnamese legal dates: "today" is today in Vietnam (UTC+7, no DST).
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def today() -> date:
    return datetime.now(VIETNAM_TIME).date()


def _exact(value: str) -> str:
    """Case-insensitive, whitespace-normalised NFC: level 1, 2 and 4 comparisons keep diacritics."""
    return " ".join(nfc(value).split()).casefold()


@dataclass(frozen=True)
class _Candidate:
    key: str
    label: str  # how a tie lists it: "08 Mông"
    codes: frozenset[str]
    names_exact: frozenset[str]
    names_loose: frozenset[str]
    others_exact: frozenset[str]
    others_loose: frozenset[str]

    @classmethod
    def build(
        cls, key: str, label: str, codes: Iterable[str], names: Iterable[str], others: Iterable[str] = ()
    ) -> "_Candidate":
        names, others = [n for n in names if n], [n for n in others if n]
        return cls(
            key=key,
            label=label,
            codes=frozenset(_exact(c) for c in codes),
            names_exact=frozenset(_exact(n) for n in names),
            names_loose=frozenset(squash(n) for n in names) - {""},
            others_exact=frozenset(_exact(n) for n in others),
            others_loose=frozenset(squash(n) for n in others) - {""},
        )


def _first_level_matches(value: str, candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The candidates matching at the first level that matches anything, or [] for an unknown value."""
    exact, loose = _exact(value), squash(value)
    levels: tuple[Callable[[_Candidate], bool], ...] = (
        lambda c: exact in c.codes,
        lambda c: exact in c.names_exact,
        lambda c: loose in c.names_loose,
        lambda c: exact in c.others_exact,
        lambda c: loose in c.others_loose,
    )
    for matches in levels:
        found = [c for c in candidates if matches(c)]
        if found:
            return found
    return []


# What a province's name may be written after: "tỉnh" (province), "thành phố" or "TP" (city).
_ADMINISTRATIVE_PREFIX = re.compile(r"(?:tinh|thanh pho|tp\.?)\s+(?=\S)")


def _clean(value: str, loc: Loc, what: str) -> str:
    cleaned = nfc(value).strip()
    if not cleaned:
        raise ValidationFailed(loc, f"An empty value does not name any {what}.")
    return cleaned


def _unknown(value: str, loc: Loc, what: str) -> ValidationFailed:
    return ValidationFailed(loc, f"Unknown {what} '{value}'.")


def _ambiguous(value: str, labels: Iterable[str], loc: Loc, what: str, remedy: str) -> ValidationFailed:
    listed = ", ".join(labels)
    return ValidationFailed(loc, f"'{value}' is ambiguous: it names more than one {what} ({listed}); {remedy}.")


def _resolve_key(value: str, candidates: Sequence[_Candidate], loc: Loc, what: str) -> str:
    value = _clean(value, loc, what)
    found = _first_level_matches(value, candidates)
    if not found:
        raise _unknown(value, loc, what)
    if len(found) > 1:
        raise _ambiguous(value, (c.label for c in found), loc, what, "give the code")
    return found[0].key


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# Ethnic groups


def _ethnic_groups(session: Session) -> list[EthnicGroup]:
    return list(session.scalars(select(EthnicGroup).order_by(EthnicGroup.code)))


def _ethnic_group_candidates(groups: Iterable[EthnicGroup]) -> list[_Candidate]:
    # Hidden (derogatory) names are matched like other names, so old records still resolve.
    return [
        _Candidate.build(
            key=g.code,
            label=f"{g.code} {g.name}",
            codes=(g.code, g.code.lstrip("0")),
            names=(g.name, *g.spelling_variants),
            others=(*g.other_names, *g.hidden_names),
        )
        for g in groups
    ]


def resolve_ethnic_groups(session: Session, values: Sequence[str], loc: Loc) -> list[str]:
    """Codes of the given ethnic groups, de-duplicated, in input order."""
    candidates = _ethnic_group_candidates(_ethnic_groups(session)) if values else []
    return _resolve_keys(candidates, values, loc, "ethnic group")


def _resolve_keys(candidates: Sequence[_Candidate], values: Sequence[str], loc: Loc, what: str) -> list[str]:
    return _unique(_resolve_key(value, candidates, loc, what) for value in values)


def get_ethnic_group(session: Session, code: str) -> EthnicGroup:
    group = session.get(EthnicGroup, code)
    if group is None:
        raise NotFound(f"No ethnic group has code '{code}'.")
    return group


def list_ethnic_groups(session: Session, q: str | None = None) -> list[EthnicGroup]:
    """All groups, or the one whose code `q` is ("08", "8"; as a filter reads it) and those whose
    name, spelling variant or other name contains `q`, ignoring diacritics, case, hyphens and
    apostrophes. Hidden names match too; they are never shown."""
    groups = _ethnic_groups(session)
    needle = squash(q) if q else ""
    if not needle:
        return groups
    return [
        g for g in groups if needle in (g.code, g.code.lstrip("0")) or any(needle in squash(n) for n in _all_names(g))
    ]


def _all_names(group: EthnicGroup) -> tuple[str, ...]:
    return (group.name, *group.spelling_variants, *group.other_names, *group.hidden_names)


def _names(session: Session, key: Any, name: Any) -> dict[str, str]:
    """{key: name} read as two columns: facet labels are needed on every search, whole rows are not."""
    return {str(k): v for k, v in session.execute(select(key, name))}


def ethnic_group_names(session: Session) -> dict[str, str]:
    return _names(session, EthnicGroup.code, EthnicGroup.name)


# Border routes


def _border_routes(session: Session) -> list[BorderRoute]:
    return list(session.scalars(select(BorderRoute).order_by(BorderRoute.code)))


def _border_route_candidates(routes: Iterable[BorderRoute]) -> list[_Candidate]:
    # The neighbour country, in Vietnamese or English, names its route: "Lào", "Laos".
    return [
        _Candidate.build(
            key=r.code,
            label=f"{r.code} {r.name}",
            codes=(r.code,),
            names=(r.name, r.neighbor_country, r.neighbor_country_vi),
        )
        for r in routes
    ]


def resolve_border_routes(session: Session, values: Sequence[str], loc: Loc) -> list[str]:
    """Codes of the given border routes, de-duplicated, in input order."""
    candidates = _border_route_candidates(_border_routes(session)) if values else []
    return _resolve_keys(candidates, values, loc, "border route")


def list_border_routes(session: Session) -> list[BorderRoute]:
    return _border_routes(session)


def border_route_names(session: Session) -> dict[str, str]:
    return _names(session, BorderRoute.code, BorderRoute.name)


# Topics


def _topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.slug)))


def _topic_candidates(topics: Iterable[Topic]) -> list[_Candidate]:
    return [
        _Candidate.build(key=t.slug, label=f"{t.slug} {t.name}", codes=(t.slug,), names=(t.slug, t.name, t.name_en))
        for t in topics
    ]


def resolve_topics(session: Session, values: Sequence[str], loc: Loc) -> list[str]:
    """Slugs of the given topics, de-duplicated, in input order."""
    candidates = _topic_candidates(_topics(session)) if values else []
    return _resolve_keys(candidates, values, loc, "topic")


def list_topics(session: Session) -> list[Topic]:
    return _topics(session)


def topic_names(session: Session) -> dict[str, str]:
    return _names(session, Topic.slug, Topic.name)


# Provinces


@dataclass(frozen=True)
class ProvinceLinks:
    """Direct succession links, by province id: who followed whom."""

    successors: dict[uuid.UUID, list[uuid.UUID]]
    predecessors: dict[uuid.UUID, list[uuid.UUID]]


def province_links(session: Session) -> ProvinceLinks:
    successors: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    predecessors: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    edges = session.execute(
        select(ProvinceSuccession.predecessor_id, ProvinceSuccession.successor_id).order_by(
            ProvinceSuccession.predecessor_id, ProvinceSuccession.successor_id
        )
    )
    for predecessor, successor in edges:
        successors[predecessor].append(successor)
        predecessors[successor].append(predecessor)
    return ProvinceLinks(successors=dict(successors), predecessors=dict(predecessors))


def reachable(start: Node, links: Mapping[Node, list[Node]]) -> list[Node]:
    """Every node reachable from `start` along `links` (a province's line of successors, or of
    predecessors), each once."""
    seen: dict[Node, None] = {}
    stack = list(links.get(start, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen[current] = None
            stack.extend(links.get(current, ()))
    return list(seen)


def current_province_lines(session: Session) -> dict[str, tuple[str, ...]]:
    """Each province valid today (by id) with its line of succession, as `province_line_ids`
    gives it. After the 2025 merger every earlier province is in the line of exactly one of
    them, so these lines split the tagged materials the way province filters do."""
    links = province_links(session)
    return {str(p.id): tuple(_line(p.id, links)) for p in provinces_on(session, today())}


def _line(province_id: uuid.UUID, links: ProvinceLinks) -> list[str]:
    line = dict.fromkeys([province_id, *reachable(province_id, links.predecessors)])
    line.update(dict.fromkeys(reachable(province_id, links.successors)))
    return [str(member) for member in line]


def province_line_ids(session: Session, province_ids: Sequence[uuid.UUID | str]) -> list[str]:
    """Every id in the lines of succession of the given provinces, as strings, for filters.

    A line is the province, all its ancestors and all its descendants (transitively), not its
    siblings: the old Quảng Trị's line is {old Quảng Trị, new Quảng Trị}; the new Quảng Trị's is
    {new Quảng Trị, old Quảng Trị, old Quảng Bình}.
    """
    links = province_links(session)
    line: dict[str, None] = {}
    for given in province_ids:
        line.update(dict.fromkeys(_line(given if isinstance(given, uuid.UUID) else uuid.UUID(str(given)), links)))
    return list(line)


def valid_on(province: Province, day: date) -> bool:
    return (province.valid_from is None or province.valid_from <= day) and (
        province.valid_until is None or day <= province.valid_until
    )


def _provinces(session: Session) -> list[Province]:
    return list(session.scalars(select(Province).order_by(Province.code, Province.name, Province.valid_from)))


def provinces_on(session: Session, on: date, border_route: Sequence[str] | None = None) -> list[Province]:
    """Provinces valid on `on`; with `border_route` (codes), only those on one of these routes."""
    routes = set(border_route or ())
    return [p for p in _provinces(session) if valid_on(p, on) and (not routes or routes.intersection(p.border_routes))]


def get_province(session: Session, province_id: uuid.UUID) -> Province:
    province = session.get(Province, province_id)
    if province is None:
        raise NotFound(f"No province has id '{province_id}'.")
    return province


def province_names(session: Session) -> dict[str, str]:
    return _names(session, Province.id, Province.name)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _province_label(province: Province) -> str:
    return f"{province.code} {province.name} (id {province.id})"


def _province_by_code(provinces: Sequence[Province], value: str, loc: Loc, on: date) -> Province:
    holders = [p for p in provinces if p.code == value.zfill(2) and valid_on(p, on)]
    if len(holders) == 1:
        return holders[0]
    if not holders:
        raise ValidationFailed(
            loc,
            f"No province holds code '{value}' on {on.isoformat()}; codes were reused in 2025: give a name or an id.",
        )
    raise _ambiguous(value, map(_province_label, holders), loc, "province", "give the province id")


def _one_line(session: Session, value: str, found: Sequence[Province], loc: Loc, on: date) -> Province:
    """Among same-named provinces of one line of succession, the one valid on `on`, else the latest."""
    current = [p for p in found if valid_on(p, on)]
    chosen = current[0] if current else max(found, key=lambda p: (p.valid_until or date.max, p.valid_from or date.min))
    line = set(province_line_ids(session, [chosen.id]))
    if len(current) > 1 or any(str(p.id) not in line for p in found):
        raise _ambiguous(value, map(_province_label, found), loc, "province", "give the province id")
    return chosen


def resolve_province(session: Session, value: str, loc: Loc, on: date | None = None) -> Province:
    """A province from its id, its code on day `on` (default today), or its name.

    A bare code means the province holding it on `on` (codes were reused on 1 July 2025). A name
    shared across periods within one line of succession (Lào Cai, Quảng Trị, Huế) means the
    province valid on `on`, else the latest; the same name in two different lines is a tie.
    """
    on = on or today()
    value = _clean(value, loc, "province")
    as_id = _as_uuid(value)
    if as_id is not None:
        province = session.get(Province, as_id)
        if province is None:
            raise _unknown(value, loc, "province")
        return province
    provinces = _provinces(session)
    if value.isdigit():
        return _province_by_code(provinces, value, loc, on)
    by_id = {str(p.id): p for p in provinces}
    candidates = [
        _Candidate.build(key=str(p.id), label=_province_label(p), codes=(), names=(p.name, p.name_ascii))
        for p in provinces
    ]
    found = _first_level_matches(value, candidates)
    if not found and (prefix := _ADMINISTRATIVE_PREFIX.match(fold(value))):
        # "Tỉnh Tây Ninh", "Thành phố Huế", "TP. Huế": the name after the kind of province
        # (folding keeps one character per character, so the match's end is the name's start).
        found = _first_level_matches(value[prefix.end() :], candidates)
    if not found:
        raise _unknown(value, loc, "province")
    return _one_line(session, value, [by_id[c.key] for c in found], loc, on)


def resolve_provinces(session: Session, values: Sequence[str], loc: Loc, on: date | None = None) -> list[uuid.UUID]:
    """Ids of the given provinces (what a material stores), de-duplicated, in input order."""
    ids = [resolve_province(session, value, loc, on).id for value in values]
    return list(dict.fromkeys(ids))


# What search reads on every request


@dataclass(frozen=True)
class ReferenceData:
    """The resolution candidates of ethnic groups, border routes and topics, and the display name
    of every value of each (provinces by id): all that a search needs of the taxonomy, read in
    four queries. Provinces resolve through the session (dates, lines of succession)."""

    ethnic_group_candidates: tuple[_Candidate, ...]
    border_route_candidates: tuple[_Candidate, ...]
    topic_candidates: tuple[_Candidate, ...]
    names: Mapping[str, Mapping[str, str]]  # "ethnic_group", "border_route", "province", "topic"
    # Each province valid today, by id: the ids of its line of succession (itself included), which
    # is what a filter on it matches; search counts the province facet by these lines.
    province_lines: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Ethnic group names of two or more words written as one ("Hmong", "Ede"): what search
    # finds for such a word too (`spelled_names`).
    spellings: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    def resolve(self, name: str, values: Sequence[str], loc: Loc) -> list[str]:
        """As `resolve_ethnic_groups`, `resolve_border_routes` or `resolve_topics` (`name`:
        "ethnic_group", "border_route" or "topic"), from these candidates."""
        candidates, what = {
            "ethnic_group": (self.ethnic_group_candidates, "ethnic group"),
            "border_route": (self.border_route_candidates, "border route"),
            "topic": (self.topic_candidates, "topic"),
        }[name]
        return _resolve_keys(candidates, values, loc, what)


def reference_data(session: Session) -> ReferenceData:
    groups, routes, topics = _ethnic_groups(session), _border_routes(session), _topics(session)
    return ReferenceData(
        ethnic_group_candidates=tuple(_ethnic_group_candidates(groups)),
        border_route_candidates=tuple(_border_route_candidates(routes)),
        topic_candidates=tuple(_topic_candidates(topics)),
        names={
            "ethnic_group": {g.code: g.name for g in groups},
            "border_route": {r.code: r.name for r in routes},
            "province": province_names(session),
            "topic": {t.slug: t.name for t in topics},
        },
        province_lines=current_province_lines(session),
        spellings=spelled_names((g.code, (g.name, *g.spelling_variants)) for g in groups),
    )


def spelled_names(names: Iterable[tuple[str, Iterable[str]]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """For (key, names) pairs: each name of two or more words whose letters make one word
    ("H'Mông" -> "hmong", "Ê Đê" -> "ede", "Ba-na" -> "bana"), that word -> the name's words as a
    query finds them (("mong",); ("e", "de")). A word that two keys' names would give is left
    out: it names neither for sure."""
    found: dict[str, dict[tuple[str, ...], str]] = {}
    for key, written in names:
        for name in written:
            words = tuple(query_words(name)[0])
            joined = squash(name)
            if len(joined) >= 3 and _ONE_WORD.fullmatch(joined) and words and words != (joined,):
                found.setdefault(joined, {}).setdefault(words, key)
    return {joined: tuple(forms) for joined, forms in sorted(found.items()) if len(set(forms.values())) == 1}


_ONE_WORD = re.compile(r"\w+")
