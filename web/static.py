"""Static files through Starlette's ``StaticFiles`` (ETag/Last-Modified revalidation, range requests, no way
out of the folder) with the Cache-Control each folder wants."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class CachedStaticFiles(StaticFiles):
    """The files under ``directory``, each answer carrying ``cache_control``."""

    def __init__(self, *, directory: Path, cache_control: str) -> None:
        super().__init__(directory=directory, follow_symlink=False)
        self.cache_control = cache_control

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = self.cache_control
        return response
