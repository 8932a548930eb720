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
    engine = get_engine(get_settings().resolved_database_url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        alert = session.get(
            Alert, alert_id, options=[selectinload(Alert.product), selectinload(Alert.merchant)]
        )
        if alert is None:
            typer.echo(f"预警 {alert_id} 不存在", err=True)
            raise typer.Exit(code=1)
        made = export_evidence_pack(
            session, alert, masked=masked, actor=actor or f"cli:{getpass.getuser()}", made_at=utcnow()
        )
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(made.data)
        partial.replace(out)
        session.commit()
    files = ", ".join(f"{entry['name']}" for entry in made.manifest["files"])
    typer.echo(f"已写入 {out}（manifest.json, {files}）")
    typer.echo(f"SHA-256 {made.sha256}")


@app.command("verify-pack")
def verify_pack(path: Annotated[Path, typer.Argument(help="证据包 ZIP 文件")]) -> None:
    """Re-check every hash in an evidence pack; exits 1 if anything changed since it was made."""
    from alerts.evidence_pack import verify_pack as check

    try:
        data = path.read_bytes()
    except OSError as exc:
        typer.echo(f"无法读取 {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from exc
    problems = check(data)
    if problems:
        typer.echo(f"证据包 {path} 未通过核验：", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"证据包完好：{path}（SHA-256 {hashlib.sha256(data).hexdigest()}）")
