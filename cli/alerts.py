"""``fairmarket alerts pack|verify-pack``: an alert's evidence pack for a case file, and checking one."""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="价格预警：导出证据包、核验证据包", no_args_is_help=True)


@app.command("pack")
def pack(
    alert_id: Annotated[int, typer.Argument(help="预警编号")],
    out: Annotated[Path, typer.Option("--out", "-o", help="写入的 ZIP 文件")],
    masked: Annotated[
        bool, typer.Option("--masked", help="遮蔽投诉中的个人信息（交给行业协会或外部时）")
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", help="记入审计日志的导出人（默认 cli:<系统用户>）")
    ] = None,
) -> None:
    """Write the evidence pack of one alert (manifest, prices, complaints, chart, report); audited."""
    from sqlalchemy.orm import selectinload

    from alerts.evidence_pack import export_evidence_pack
    from core.config import get_settings
    from core.db import get_engine, session_factory, upgrade_database
    from core.models import Alert, utcnow

    if out.is_dir() or not out.parent.is_dir():
        typer.echo(f"无法写入 {out}：目录不存在或目标是目录", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    engine = get_engine(settings.resolved_database_url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        alert = session.get(
            Alert, alert_id, options=[selectinload(Alert.product), selectinload(Alert.merchant)]
        )
        if alert is None:
            typer.echo(f"预警 {alert_id} 不存在", err=True)
            raise typer.Exit(code=1)
        made = export_evidence_pack(
            session,
            alert,
            masked=masked,
            actor=actor or f"cli:{getpass.getuser()}",
            made_at=utcnow(),
            secret=settings.secret_key,
        )
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(made.data)
        partial.replace(out)
        session.commit()
    files = ", ".join(f"{entry['name']}" for entry in made.manifest["files"])
    typer.echo(f"已写入 {out}（manifest.json, {files}）")
    typer.echo(f"SHA-256 {made.sha256}")


@app.command("verify-pack")
def verify_pack(
    path: Annotated[Path, typer.Argument(help="证据包 ZIP 文件")],
    database: Annotated[
        bool, typer.Option("--database", help="同时核对审计日志：清单的 SHA-256 须有导出记录（配置的数据库）")
    ] = False,
    hashes_only: Annotated[
        bool, typer.Option("--hashes-only", help="只核对哈希，不核对签名（手头没有签发系统的密钥时）")
    ] = False,
) -> None:
    """Re-check every hash and the manifest's signature (with the configured secret key), and with
    --database that the manifest is one an audited export handed out; exits 1 on any failure."""
    from alerts.evidence_pack import audited_export, check_pack
    from core.config import get_settings

    try:
        data = path.read_bytes()
    except OSError as exc:
        typer.echo(f"无法读取 {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from exc
    settings = get_settings()
    result = check_pack(data, secret=None if hashes_only else settings.secret_key)
    problems, checked = list(result.problems), list(result.checked)
    if hashes_only:
        checked.append("签名未核对（--hashes-only）")
    if database and result.alert_id is not None and result.manifest_sha256 is not None:
        from sqlalchemy.exc import SQLAlchemyError

        from core.db import get_engine, session_factory

        try:
            with session_factory(get_engine(settings.resolved_database_url))() as session:
                entry = audited_export(session, result.alert_id, result.manifest_sha256)
        except SQLAlchemyError as exc:
            typer.echo(f"无法读取审计日志（数据库）：{type(exc).__name__}", err=True)
            raise typer.Exit(code=2) from exc
        if entry is None:
            problems.append("审计日志中没有导出过这个清单（manifest_sha256）的记录")
        else:
            checked.append(
                f"与审计记录 #{entry.id} 一致（{entry.actor} 于 {entry.at:%Y-%m-%d %H:%M} UTC 导出）"
            )
    if problems:
        typer.echo(f"证据包 {path} 未通过核验：", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"证据包完好：{path}（SHA-256 {hashlib.sha256(data).hexdigest()}）")
    for line in checked:
        typer.echo(f"  - {line}")
