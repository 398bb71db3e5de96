"""Translations: a material may name the source it translates (`translation_of`).

A family is one source and its translations, one level deep: a translation never has
translations of its own, nothing translates itself, and each language (with its script; the
region aside) is in a family once: a translation is in another language than its source and
than the other translations. Each member is a material of its own, with its own workflow and four eyes.
"""

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.materials import languages
from app.materials.models import Material
from app.materials.schemas import TranslationFamily, TranslationMember

LOC = ["body", "translation_of"]


def same_language(a: str, b: str) -> bool:
    return languages.language_and_script(a) == languages.language_and_script(b)


def check_translation(
    session: Session,
    material: Material | None,
    source_id: uuid.UUID | None,
    language: str,
    changed: str = "translation_of",
) -> None:
    """Refuse (422) a link that would make a chain, a loop, or two members of one family in one
    language (the source's, or another translation's).

    `material` is None for a material being created; `language` is the language it will have;
    `changed` is the field the request changed (`translation_of` or `language`): the one a
    language clash is reported on."""
    if source_id is None:
        if material is not None:
            _check_translations_differ(session, material, language)
        return
    if material is not None and source_id == material.id:
        raise ValidationFailed(LOC, "A material cannot be a translation of itself.")
    source = session.get(Material, source_id)
    if source is None:
        raise ValidationFailed(LOC, f"No material with id {source_id}.")
    if source.translation_of is not None:
        raise ValidationFailed(
            LOC, f"Material {source_id} is itself a translation of {source.translation_of}; name that source instead."
        )
    if material is not None and _has_translations(session, material.id):
        raise ValidationFailed(LOC, "This material has translations of its own, so it cannot be a translation.")
    loc = ["body", changed]
    if same_language(source.language, language):
        same = "" if language == source.language else f" ({language!r} is that language too.)"
        raise ValidationFailed(
            loc, f"The source is in {source.language!r} too; a translation must be in another language.{same}"
        )
    siblings = session.execute(
        select(Material.id, Material.language).where(
            Material.translation_of == source_id, Material.id != (material.id if material is not None else None)
        )
    )
    for sibling_id, sibling_language in siblings:
        if same_language(sibling_language, language):
            raise ValidationFailed(
                loc, f"Material {sibling_id} translates the source into {sibling_language!r} already; edit that one."
            )


def _check_translations_differ(session: Session, material: Material, language: str) -> None:
    """A source whose language changes must not end up in the language of one of its translations."""
    if material.translation_of is not None:
        return
    languages_ = session.scalars(select(Material.language).where(Material.translation_of == material.id))
    if any(same_language(language, other) for other in languages_):
        raise ValidationFailed(["body", "language"], f"A translation of this material is in {language!r} already.")


def _has_translations(session: Session, material_id: uuid.UUID) -> bool:
    return session.scalar(select(Material.id).where(Material.translation_of == material_id).limit(1)) is not None


def refuse_deleting_a_source(session: Session, material: Material) -> None:
    if _has_translations(session, material.id):
        raise Conflict("This material has translations; delete or re-link them first.")


def family_id(material: Material) -> uuid.UUID:
    return material.translation_of or material.id


def get_family(session: Session, material_id: uuid.UUID) -> TranslationFamily:
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(f"No material with id {material_id}.")
    source_id = family_id(material)
    rows = session.execute(
        select(Material.id, Material.title, Material.language, Material.status)
        .add_columns(Material.published_at, Material.translation_of)
        .where(or_(Material.id == source_id, Material.translation_of == source_id))
        .order_by(Material.translation_of.is_not(None), Material.language, Material.id)
    ).all()
    items = [
        TranslationMember(
            id=row.id,
            title=row.title,
            language=row.language,
            status=row.status,
            published_at=row.published_at,
            is_source=row.translation_of is None,
        )
        for row in rows
    ]
    return TranslationFamily(
        source_id=source_id,
        languages=sorted({item.language for item in items}),
        published_languages=sorted({item.language for item in items if item.status == "published"}),
        items=items,
    )


def published_translations(session: Session, source_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """For each source id, its published translations as (id, version), by language."""
    if not source_ids:
        return {}
    rows = session.execute(
        select(Material.translation_of, Material.id, Material.version)
        .where(Material.translation_of.in_([uuid.UUID(s) for s in source_ids]), Material.status == "published")
        .order_by(Material.language, Material.id)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for source, translation, version in rows:
        found.setdefault(str(source), []).append((str(translation), version))
    return found
