from __future__ import annotations

import typer
import uvicorn

from api.main import create_app


def serve(host: str = "127.0.0.1", port: int = typer.Option(8000, "--port")) -> None:
    """Serve the API and pages (runs migrations on start)."""
    uvicorn.run(create_app(), host=host, port=port)


def demo(port: int = typer.Option(8000, "--port")) -> None:
    """Not available yet."""
    raise typer.Exit(code=2)
