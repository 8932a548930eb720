from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.utils.auth import login_headers, make_user


def test_password_flow_issues_token_for_valid_user(client: TestClient, session: Session) -> None:
    make_user(session, "staff1", "consumer_staff")
    headers = login_headers(client, "staff1")
    assert headers["Authorization"].startswith("Bearer ")


def test_wrong_password_is_401(client: TestClient, session: Session) -> None:
    make_user(session, "staff2", "consumer_staff")
    response = client.post("/api/auth/token", data={"username": "staff2", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
