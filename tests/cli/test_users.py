"""``fairmarket user`` and ``fairmarket apikey`` against a real database file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cli.main import app
from core.accounts import user_for_api_key
from core.config import get_settings
from core.db import get_engine, make_engine, session_factory
from core.models import ApiKey, AuditLog, User
from core.security import verify_password
from tests.utils.auth import make_association

runner = CliRunner()
PASSWORD = "a long passphrase"


@pytest.fixture
def database(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database the CLI finds through the environment, like in production."""
    monkeypatch.setenv("FAIRMARKET_DATABASE_URL", db_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield db_url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _run(*args: str, prompt: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=prompt)
    return result.exit_code, result.output


def _users(db_url: str) -> dict[str, User]:
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    engine.dispose()
    return users


def test_user_add_list_disable(database: str) -> None:
    code, output = _run("user", "add", "boss", "--role", "admin", "--password", PASSWORD)
    assert code == 0 and "已创建用户 boss" in output

    code, output = _run("user", "list")
    assert code == 0 and "boss" in output and "正常" in output

    assert _run("user", "disable", "boss")[0] == 0
    assert _users(database)["boss"].disabled
    assert "已停用" in _run("user", "list")[1]


def test_user_add_prompts_for_the_password_twice(database: str) -> None:
    code, output = _run(
        "user", "add", "clerk", "--role", "consumer_staff", prompt=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, output
    assert PASSWORD not in _users(database)["clerk"].password_hash


def test_association_staff_join_their_association(database: str) -> None:
    engine = make_engine(database)
    with session_factory(engine)() as session:
        make_association(session, "chaoshi", ["supermarket"])
    engine.dispose()
    code, output = _run(
        "user",
        "add",
        "wang",
        "--role",
        "association_staff",
        "--association",
        "chaoshi",
        "--password",
        PASSWORD,
    )
    assert code == 0, output
    assert _users(database)["wang"].association_id is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "root"), "未知角色"),
        (("--role", "admin", "--password", "short"), "至少需要 10 个字符"),
        (("--role", "association_staff", "--password", PASSWORD), "必须指定所属协会"),
        (("--role", "association_staff", "--association", "无此协会", "--password", PASSWORD), "协会不存在"),
    ],
    ids=["unknown-role", "short-password", "no-association", "unknown-association"],
)
def test_user_add_refuses_bad_accounts(database: str, args: tuple[str, ...], message: str) -> None:
    code, output = _run("user", "add", "someone", *args)
    assert code != 0 and message in output
    assert "someone" not in _users(database)


def test_duplicate_user_and_unknown_user_fail_cleanly(database: str) -> None:
    _run("user", "add", "boss", "--role", "admin", "--password", PASSWORD)
    code, output = _run("user", "add", "boss", "--role", "admin", "--password", PASSWORD)
    assert code == 1 and "用户名已存在" in output
    code, output = _run("user", "disable", "ghost")
    assert code == 1 and "用户不存在" in output


def test_apikey_create_is_shown_once_and_revoke_stops_it(database: str) -> None:
    _run("user", "add", "robot", "--role", "consumer_staff", "--password", PASSWORD)

    code, output = _run("apikey", "create", "--user", "robot", "--name", "价格采集脚本")

    assert code == 0, output
    secret = output.strip().splitlines()[-1]
    engine = make_engine(database)
    with session_factory(engine)() as session:
        user = user_for_api_key(session, secret)
        assert user is not None and user.username == "robot"
        key = session.scalar(select(ApiKey))
        assert key is not None and secret not in key.key_hash
        prefix = key.prefix
    assert prefix in _run("apikey", "list")[1]

    assert _run("apikey", "revoke", prefix)[0] == 0
    with session_factory(engine)() as session:
        assert user_for_api_key(session, secret) is None
        actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    engine.dispose()
    assert actions == ["user.create", "apikey.create", "apikey.revoke"]
    code, output = _run("apikey", "revoke", "000000000000")
    assert code == 1 and "不存在" in output


def test_apikey_for_disabled_user_is_refused(database: str) -> None:
    _run("user", "add", "robot", "--role", "consumer_staff", "--password", PASSWORD)
    _run("user", "disable", "robot")
    code, output = _run("apikey", "create", "--user", "robot", "--name", "x")
    assert code == 1 and "已停用" in output


def test_user_passwd_resets_the_password_and_is_audited(database: str) -> None:
    _run("user", "add", "clerk", "--role", "consumer_staff", "--password", PASSWORD)
    old_hash = _users(database)["clerk"].password_hash

    assert _run("user", "passwd", "clerk", "--password", "short")[0] == 1
    code, output = _run(
        "user", "passwd", "clerk", prompt="another long passphrase\nanother long passphrase\n"
    )

    assert code == 0, output
    new_hash = _users(database)["clerk"].password_hash
    assert new_hash != old_hash and verify_password("another long passphrase", new_hash)
    engine = make_engine(database)
    with session_factory(engine)() as session:
        reset = session.scalar(select(AuditLog).where(AuditLog.action == "user.password_reset"))
        assert reset is not None and reset.before is None and reset.after is None
    engine.dispose()
