"""Variants as items for the detectors: a good quoted by origin or spec is several series, not one.

Xinfadi quotes 黄瓜 鲁辽 袋\\箱 at 0.85 and 黄瓜 冀 鲜干花 at 0.9 on one day; judged as one series, a seller
switching from one to the other looks like a price jump. :func:`series_by_variant` folds a row's variant
(origin, and a spec that grades rather than measures) into its ``region`` key, so every detector — all
of them key series on (merchant, product, region) and markets on (product, region, day) — follows each
variant on its own and compares a seller's 鲁辽 cucumbers with the market's 鲁辽 cucumbers. Rows without
a variant keep their region as it is. The fold is undone where an alert is stored
(:func:`split_variant_region`): the alert keeps the plain region people filter and subscribe by, and names
the variant beside it. Left out: a spec or package that states a quantity (``5L/桶``, ``500g/袋``: the
price is already per standard unit, so pack sizes are one market) and the source's own name for the item
(sellers name one good differently, and those are still one market).
"""

from __future__ import annotations

import re

import pandas as pd

#: The columns that make a variant of a good for the detectors.
VARIANT_KEYS = ("origin", "spec")
#: A spec with a number measures a pack (normalised away), it does not grade the good.
MEASURES = re.compile(r"\d|[一二两三四五六七八九十半]")
#: Between a region and a variant's parts in the folded key (and the alerts that carry it).
SEPARATOR = " · "
#: The stored region of an alert holds this many characters.
REGION_LENGTH = 60


def variant_label(observations: pd.DataFrame) -> pd.Series:
    """Each row's variant as text ("鲁辽 · 袋\\箱"); "" for a row without one (or without the columns)."""
    parts = [
        observations[column].astype("object").fillna("").astype(str).str.strip()
        for column in VARIANT_KEYS
        if column in observations.columns
    ]
    if not parts:
        return pd.Series("", index=observations.index, dtype="object")
    if "spec" in observations.columns:
        parts[-1] = parts[-1].where(~parts[-1].str.contains(MEASURES), "")
    label = parts[0]
    for part in parts[1:]:
        label = label.where(part == "", label.where(label == "", label + SEPARATOR) + part)
    return label


def series_by_variant(observations: pd.DataFrame) -> pd.DataFrame:
    """``observations`` with each row's variant folded into ``region`` ("道里区 · 鲁辽"; "鲁辽" without one).

    Parameters
    ----------
    observations : DataFrame
        Observation columns (:mod:`analysis.detectors`), optionally with ``origin``, ``spec``, ``package``.

    Returns
    -------
    DataFrame
        A copy (same index) whose ``region`` tells variants apart, at most :data:`REGION_LENGTH` characters.
    """
    label = variant_label(observations)
    has_variant = label != ""
    if not has_variant.any():
        return observations
    region = observations["region"].astype("object").fillna("").astype(str)
    folded = region + SEPARATOR + label
    return observations.assign(region=region.where(~has_variant, folded).str.slice(0, REGION_LENGTH))


def fold_variant_region(region: str, variant: str) -> str:
    """The key :func:`series_by_variant` gives a row of ``region`` and ``variant`` ("" for none)."""
    return (region + SEPARATOR + variant)[:REGION_LENGTH] if variant else region


def split_variant_region(folded: str) -> tuple[str, str]:
    """``(region, variant)`` of a key :func:`series_by_variant` made; no region holds the separator."""
    region, _, variant = folded.partition(SEPARATOR)
    return region, variant


def observation_variant(origin: str | None, spec: str | None, package: str | None = None) -> str:
    """One stored observation's variant label, as :func:`variant_label` gives it for a frame's row.

    ``package`` is accepted and left out, as a spec that states a quantity is.
    """
    grade = (spec or "").strip()
    if MEASURES.search(grade):
        grade = ""
    return SEPARATOR.join(part for part in ((origin or "").strip(), grade) if part)
