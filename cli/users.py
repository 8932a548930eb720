"""``fairmarket user``: add, list, disable and re-enable staff accounts, reset passwords."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.accounts import AccountError

app = typer.Typer(help="Staff accounts (用户管理).", no_args_is_help=True)

CLI_ACTOR = "cli"


def accounts_session() -> AbstractContextManager[Session]:
    """A session on the configured database, migrated first so a fresh install works at once."""
    from core.db import get_engine, session_scope, upgrade_database

    engine = get_engine()
    upgrade_database(engine)
    return session_scope(engine)


def fail(error: AccountError) -> typer.Exit:
    typer.echo(f"错误：{error.message}", err=True)
    return typer.Exit(1)


@app.command("add")
def add(
    username: str,
    role: Annotated[str, typer.Option(help="association_staff | consumer_staff | admin")],
    association: Annotated[str | None, typer.Option(help="所属协会的代码或名称")] = None,
    password: Annotated[str | None, typer.Option(help="不填则交互输入（推荐：不留在 shell 历史里）")] = None,
    full_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a staff account."""
    from core.accounts import STAFF_ROLE_NAMES, AccountError, create_user, find_association

    if role not in STAFF_ROLE_NAMES:
        typer.echo(f"错误：未知角色 {role}（可选：{', '.join(STAFF_ROLE_NAMES)}）", err=True)
        raise typer.Exit(2)
    secret = password or typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        with accounts_session() as session:
            owner = find_association(session, association) if association else None
            user = create_user(
                session,
                actor=CLI_ACTOR,
                username=username,
                password=secret,
                role=role,
                association=owner,
                full_name=full_name,
                email=email,
            )
            typer.echo(f"已创建用户 {user.username}（{STAFF_ROLE_NAMES[role]}，id={user.id}）")
    except AccountError as error:
        raise fail(error) from error


@app.command("passwd")
def passwd(
    username: str,
    password: Annotated[str | None, typer.Option(help="不填则交互输入")] = None,
) -> None:
    """Reset a staff member's password; their signed-in sessions end at once."""
    from core.accounts import AccountError, find_user, set_password

    secret = password or typer.prompt("新密码", hide_input=True, confirmation_prompt=True)
    try:
        with accounts_session() as session:
            set_password(session, find_user(session, username), actor=CLI_ACTOR, password=secret)
    except AccountError as error:
        raise fail(error) from error
    typer.echo(f"用户 {username} 的密码已重置")


@app.command("list")
def list_users() -> None:
    """All staff accounts with role, association and state."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from core.models import User

    table = Table("id", "用户名", "角色", "协会", "状态")
    with accounts_session() as session:
        for user in session.scalars(select(User).options(selectinload(User.association)).order_by(User.id)):
            table.add_row(
                str(user.id),
                user.username,
                user.role,
                user.association.name if user.association else "-",
                "已停用" if user.disabled else "正常",
            )
    Console().print(table)


def _set_disabled(username: str, disabled: bool) -> None:
    from core.accounts import AccountError, find_user, set_user_disabled

    try:
        with accounts_session() as session:
            user = find_user(session, username)
            set_user_disabled(session, user, actor=CLI_ACTOR, disabled=disabled)
            typer.echo(f"用户 {user.username} {'已停用' if disabled else '已启用'}")
    except AccountError as error:
        raise fail(error) from error


@app.command("disable")
def disable(username: str) -> None:
    """Disable an account: its tokens and API keys stop working at once."""
    _set_disabled(username, True)


@app.command("enable")
def enable(username: str) -> None:
    """Re-enable a disabled account."""
    _set_disabled(username, False)
