"""ASGI entry point for servers that import an app object (``uvicorn api.asgi:app --workers N``).

Configuration comes from the environment only; every worker builds its own app over the same database.
"""

from api.main import create_app

app = create_app()
