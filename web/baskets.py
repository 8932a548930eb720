"""The price-index baskets a request uses: the deployment's file when there is one, else the shipped one."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from fastapi import HTTPException, status

from analysis.baskets import BASKETS_FILE, Basket, BasketError, parse_baskets
from core.config import Settings


def _baskets_path(settings: Settings) -> Path:
    deployment = settings.data_dir / BASKETS_FILE.name
    return deployment if deployment.is_file() else BASKETS_FILE


def baskets_stamp(settings: Settings) -> tuple[str, int]:
    """Which basket file is in force and when it was written: answers built on it hold while it is equal."""
    path = _baskets_path(settings)
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), -1


def read_baskets(settings: Settings) -> dict[str, Basket]:
    """The deployment's ``basket.yaml`` in the data directory when there is one, else the shipped file.

    A broken file is a 503 naming the fault: the index routes and the price page cannot serve without it.
    """
    path = _baskets_path(settings)
    try:
        return _parsed_baskets(path, path.stat().st_mtime_ns)
    except (OSError, yaml.YAMLError, BasketError) as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"价格指数篮子配置有误：{exc}") from exc


@functools.lru_cache(maxsize=4)
def _parsed_baskets(path: Path, modified_ns: int) -> dict[str, Basket]:
    """Parsed once per version of the file (``modified_ns`` is part of the key), not on every request."""
    return parse_baskets(yaml.safe_load(path.read_text(encoding="utf-8")))
