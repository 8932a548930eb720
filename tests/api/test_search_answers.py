"""Staff search answers are reused only while nothing was written to the database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import Complaint
from search.service import get_search_backend, index_complaints
from tests.utils.auth import login_headers, make_user
from tests.utils.search import make_corpus


def test_a_write_in_between_is_seen_by_the_next_search(
    client: TestClient, session: Session, settings: Settings
) -> None:
    complaints = make_corpus(session)
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    backend = get_search_backend(settings, engine)
    assert index_complaints(session, [c.id for c in complaints], backend=backend)
    make_user(session, "xiaoxie", "consumer_staff")
    headers = login_headers(client, "xiaoxie")
    params = {"q": "口罩", "size": 50}

    first = client.get("/api/complaints/search", params=params, headers=headers).json()
    again = client.get("/api/complaints/search", params=params, headers=headers).json()
    assert again == first

    changed: Complaint = session.get(Complaint, first["hits"][0]["id"])  # type: ignore[assignment]
    changed.title = "口罩价格又涨了"
    session.commit()
    after = client.get("/api/complaints/search", params=params, headers=headers).json()

    titles = {hit["id"]: hit["title"] for hit in after["hits"]}
    assert titles[changed.id] == "口罩价格又涨了"
    assert after["total"] == first["total"]
