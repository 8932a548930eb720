"""``fairmarket apikey``: keys for machine clients; each key acts as its user."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.users import CLI_ACTOR, accounts_session, fail

app = typer.Typer(help="API keys for machine clients (API 密钥).", no_args_is_help=True)


@app.command("create")
def create(
    user: Annotated[str, typer.Option(help="密钥代表的用户名")],
    name: Annotated[str, typer.Option(help="用途说明，如 “价格采集脚本”")],
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from core.accounts import AccountError, create_api_key, find_user

    try:
        with accounts_session() as session:
            key, secret = create_api_key(session, find_user(session, user), actor=CLI_ACTOR, name=name)
            prefix = key.prefix
    except AccountError as error:
        raise fail(error) from error
    typer.echo(f"已创建 API 密钥 {prefix}（请立即保存，之后无法再次显示）：")
    typer.echo(secret)


@app.command("list")
def list_keys() -> None:
    """All keys by prefix, with user and state; the secrets are not stored and cannot be shown."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from core.models import ApiKey

    table = Table("前缀", "名称", "用户", "创建时间", "最近使用", "状态")
    with accounts_session() as session:
        for key in session.scalars(select(ApiKey).options(selectinload(ApiKey.user)).order_by(ApiKey.id)):
            table.add_row(
                key.prefix,
                key.name,
                key.user.username,
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "-",
                "已撤销" if key.revoked_at else "有效",
            )
    Console().print(table)


@app.command("revoke")
def revoke(prefix: str) -> None:
    """Revoke a key by its prefix; it stops working at once."""
    from core.accounts import AccountError, revoke_api_key

    try:
        with accounts_session() as session:
            revoke_api_key(session, prefix, actor=CLI_ACTOR)
    except AccountError as error:
        raise fail(error) from error
    typer.echo(f"API 密钥 {prefix} 已撤销")
