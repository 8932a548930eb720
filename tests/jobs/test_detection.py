"""The detection job against real databases: alerts raised once per episode, updated, never doubled."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from analysis.rules import Emergency
from core.config import Settings
from core.db import session_factory
from core.models import Alert, Category, Complaint, JobRun, Merchant, PriceObservation, Product
from jobs.detection import DetectionResult, run_detection
from jobs.detection_alerts import detection_lock, episode_key
from jobs.detection_reads import read_price_complaints, read_rules

FIRST_DAY = dt.date(2024, 3, 1)
DAYS = 60
MARKET_JUMP_DAY = 40  # every seller follows a +60% wholesale jump from here
GOUGING_DAYS = range(50, 55)  # seller 1 adds +45% on top of the market
SELLERS = 6


def _day(index: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=index)


def _seed(session: Session, spec: str | None = None) -> dict[str, int]:
    """Six 南岗区 supermarkets selling 大白菜 on top of a noisy wholesale series, seller 1 gouging.

    With ``spec``, every retail quote is of that variant (a packaging of the good).
    """
    category = Category(code="vegetables", name="蔬菜")
    product = Product(code="chinese_cabbage", name="大白菜", category=category, standard_unit="500g")
    merchants = [
        Merchant(name=f"哈尔滨第{index}超市", kind="retail", industry="超市", district="南岗区")
        for index in range(1, SELLERS + 1)
    ]
    session.add_all([category, product, *merchants])
    session.flush()
    rng = np.random.default_rng(7)
    wholesale = 1.2 * np.exp(np.cumsum(rng.normal(0, 0.03, DAYS)))
    wholesale[MARKET_JUMP_DAY:] *= 1.6
    rows: list[tuple[int | None, str, str, float]] = []
    for index in range(DAYS):
        for number, merchant in enumerate(merchants):
            price = wholesale[index] * (1.30 + 0.03 * number) * float(np.exp(rng.normal(0, 0.015)))
            if number == 0 and index in GOUGING_DAYS:
                price *= 1.45
            rows.append((merchant.id, "retail", "南岗区", price))
        rows.append((None, "wholesale", "", float(wholesale[index])))
        for merchant_id, price_type, region, price in rows:
            observed = dt.datetime.combine(_day(index), dt.time(8))
            session.add(
                PriceObservation(
                    natural_key=f"{merchant_id}-{price_type}-{index}",
                    source="test",
                    merchant_id=merchant_id,
                    product_id=product.id,
                    region=region,
                    observed_at=observed,
                    observed_date=observed.date(),
                    price=Decimal(f"{price:.4f}"),
                    raw_unit="斤",
                    unit_price=round(price, 4),
                    standard_unit="500g",
                    price_type=price_type,
                    availability="in_stock",
                    spec=spec if price_type == "retail" else None,
                )
            )
        rows.clear()
    for number, day in enumerate((50, 51, 51, 52)):
        session.add(
            Complaint(
                tracking_code=f"TS{number:04d}",
                created_at=dt.datetime.combine(_day(day), dt.time(10)),
                text="大白菜一天涨了一半，明显哄抬价格",
                merchant_name=merchants[0].name,
                merchant_id=merchants[0].id,
                nature="价格/哄抬价格",
            )
        )
    session.commit()
    return {"product": product.id, "gouger": merchants[0].id}


def _alerts(session: Session, rule_id: str) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.rule_id == rule_id).order_by(Alert.id)))


def test_run_detection_flags_the_gouging_seller_not_the_market_move(
    session: Session, settings: Settings
) -> None:
    ids = _seed(session)

    results = run_detection(session, settings, as_of=_day(DAYS - 1))

    surges = _alerts(session, "market_surge")
    assert [(alert.merchant_id, alert.start_date, alert.end_date) for alert in surges] == [
        (ids["gouger"], _day(50), _day(54))
    ]
    assert {result.rule for result in results} >= {"market_surge", "peer_outlier", "complaint_spike"}
    assert all(result.action == "raised" for result in results)
    price_alerts = [result for result in results if result.rule in ("market_surge", "peer_outlier")]
    assert {result.merchant for result in price_alerts} == {"哈尔滨第1超市"}
    assert surges[0].episode_key == episode_key(
        "market_surge", ids["gouger"], ids["product"], "南岗区", _day(50)
    )
    assert surges[0].industry == "超市"


def test_an_alert_on_a_variant_keeps_the_plain_region_and_names_the_variant(
    session: Session, settings: Settings
) -> None:
    ids = _seed(session, spec="整棵装")

    run_detection(session, settings, as_of=_day(DAYS - 1))
    again = run_detection(session, settings, as_of=_day(DAYS - 1))

    surges = _alerts(session, "market_surge")
    assert [(alert.merchant_id, alert.region, alert.evidence["variant"]) for alert in surges] == [
        (ids["gouger"], "南岗区", "整棵装")
    ]
    assert surges[0].episode_key == episode_key(
        "market_surge", ids["gouger"], ids["product"], "南岗区 · 整棵装", _day(50)
    )
    assert not [result for result in again if result.rule == "market_surge"]


def test_evidence_carries_reference_peers_complaints_and_series(session: Session, settings: Settings) -> None:
    _seed(session)
    run_detection(session, settings, as_of=_day(DAYS - 1))

    evidence = _alerts(session, "market_surge")[0].evidence

    assert evidence["rule"]["id"] == "market_surge" and evidence["rule"]["citation"]
    assert evidence["unit"] == "元/500g"
    assert 0.35 <= evidence["peak_change"] <= 0.6
    assert evidence["reference"]["value"] < evidence["current"]
    assert evidence["reference"]["window"]["to"] == _day(49).isoformat()
    assert evidence["peers"]["count"] == SELLERS and len(evidence["peers"]["sample"]) == SELLERS - 1
    peer_names = {peer["merchant"] for peer in evidence["peers"]["sample"]}
    assert peer_names == {f"哈尔滨第{number}超市" for number in range(2, SELLERS + 1)}
    assert len(evidence["complaints"]) == 4
    series = evidence["series"]
    assert len(series["dates"]) == len(series["merchant"]) == len(series["market_median"]) == 19
    assert series["reference"][-1] is not None and series["reference"][0] is None


def test_running_twice_updates_nothing_and_doubles_nothing(session: Session, settings: Settings) -> None:
    _seed(session)
    first = run_detection(session, settings, as_of=_day(DAYS - 1))
    count = session.scalar(select(func.count(Alert.id)))

    second = run_detection(session, settings, as_of=_day(DAYS - 1))

    assert first and second == []
    assert session.scalar(select(func.count(Alert.id))) == count


def test_detection_runs_at_the_same_time_raise_each_alert_once(
    session: Session, engine: Engine, settings: Settings
) -> None:
    """The scheduler's job and ``fairmarket detect`` at once: the later waits, nothing is doubled."""
    _seed(session)
    sessions = session_factory(engine)
    waiting = threading.Semaphore(0)
    results: list[list[DetectionResult]] = []
    errors: list[BaseException] = []

    def run() -> None:
        with sessions() as own:
            try:
                results.append(run_detection(own, settings, as_of=_day(DAYS - 1), on_wait=waiting.release))
            except BaseException as exc:
                errors.append(exc)

    runs = [threading.Thread(target=run) for _ in range(2)]
    with sessions() as holder:
        with detection_lock(holder):
            for thread in runs:
                thread.start()
            assert all(waiting.acquire(timeout=60) for _ in runs), "both runs should wait for the lock"
        holder.commit()
    for thread in runs:
        thread.join(timeout=120)

    assert errors == []
    raised = [result for outcome in results for result in outcome if result.action == "raised"]
    alerts = session.scalars(select(Alert)).all()
    assert sorted(result.alert_id for result in raised) == sorted(alert.id for alert in alerts)
    assert {alert.rule_id for alert in alerts} >= {"market_surge", "peer_outlier", "complaint_spike"}
    assert sorted(len(outcome) for outcome in results) == [0, len(alerts)]


def test_an_ongoing_episode_updates_its_alert(session: Session, settings: Settings) -> None:
    _seed(session)
    run_detection(session, settings, as_of=_day(52))
    [alert] = _alerts(session, "market_surge")
    assert alert.end_date == _day(52)

    results = run_detection(session, settings, as_of=_day(56))

    [updated] = _alerts(session, "market_surge")
    assert (updated.id, updated.start_date, updated.end_date) == (alert.id, _day(50), _day(54))
    [result] = [result for result in results if result.rule == "market_surge"]
    assert result.action == "updated" and result.alert_id == alert.id


def test_a_dismissed_alert_stays_dismissed(session: Session, settings: Settings) -> None:
    _seed(session)
    run_detection(session, settings, as_of=_day(52))
    [alert] = _alerts(session, "market_surge")
    alert.status = "dismissed"
    session.commit()

    results = run_detection(session, settings, as_of=_day(56))

    [still] = _alerts(session, "market_surge")
    assert (still.status, still.end_date) == ("dismissed", _day(52))
    assert not [result for result in results if result.rule == "market_surge"]


def test_cli_detect_json_prints_one_object_per_alert(
    session: Session, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app
    from core.config import get_settings
    from core.db import get_engine

    _seed(session)
    monkeypatch.setenv("FAIRMARKET_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRMARKET_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        result = CliRunner().invoke(app, ["detect", "--json", "--as-of", _day(DAYS - 1).isoformat()])
        bad_date = CliRunner().invoke(app, ["detect", "--as-of", "2024-13-45"])
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    surge = next(line for line in lines if line["rule"] == "market_surge")
    assert {key: surge[key] for key in ("merchant", "product", "region", "start_date", "end_date")} == {
        "merchant": "哈尔滨第1超市",
        "product": "大白菜",
        "region": "南岗区",
        "start_date": "2024-04-20",
        "end_date": "2024-04-24",
    }
    assert surge["severity"] in ("medium", "high") and surge["evidence"]["series"]["dates"]
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def test_a_supply_shortage_raises_a_market_level_alert(session: Session, settings: Settings) -> None:
    ids = _seed(session)
    session.execute(
        update(PriceObservation)
        .where(
            PriceObservation.observed_date >= _day(57),
            PriceObservation.price_type == "retail",
            PriceObservation.merchant_id != ids["gouger"],
        )
        .values(availability="out_of_stock")
    )
    session.commit()

    results = run_detection(session, settings, as_of=_day(DAYS - 1))

    [shortage] = [result for result in results if result.rule == "supply_shortage"]
    assert (shortage.merchant, shortage.product, shortage.region) == (None, "大白菜", "南岗区")
    assert (shortage.start_date, shortage.end_date) == (_day(57), _day(59))
    assert shortage.evidence["current"] == pytest.approx(5 / 6, abs=1e-3)
    assert shortage.evidence["series"]["dates"] == [_day(day).isoformat() for day in (57, 58, 59)]


def test_emergency_rules_judge_prices_against_the_pre_emergency_reference(
    session: Session, settings: Settings
) -> None:
    _seed(session)
    shipped = read_rules()
    declared = Emergency(id="covid19_heilongjiang_2020", name="测试紧急状态", start=_day(50), end=_day(56))
    ruleset = shipped.model_copy(update={"emergencies": [declared]})

    results = run_detection(session, settings, as_of=_day(DAYS - 1), ruleset=ruleset)

    by_rule: dict[str, set[str | None]] = {}
    for result in results:
        by_rule.setdefault(result.rule, set()).add(result.merchant)
    assert by_rule["emergency_rise_ca396"] == {"哈尔滨第1超市"}
    assert by_rule["average_rise_pa"] == {"哈尔滨第1超市"}
    assert by_rule["markup_ratio_jining"] >= {"哈尔滨第1超市", "哈尔滨第5超市", "哈尔滨第6超市"}
    assert "emergency_rise_hainan" not in by_rule  # covers 防疫用品 only
    rise = next(result for result in results if result.rule == "emergency_rise_ca396")
    assert (rise.start_date, rise.end_date) == (_day(50), _day(54))
    assert rise.evidence["reference"]["window"] == {"from": _day(20).isoformat(), "to": _day(49).isoformat()}
    assert rise.evidence["rule"]["emergency"]["name"] == "测试紧急状态"


def test_price_complaints_are_counted_on_their_beijing_day(session: Session) -> None:
    for number, (at, nature) in enumerate(
        [
            (dt.datetime(2024, 3, 1, 20, 0), "价格/哄抬价格"),  # 2024-03-02 04:00 in Beijing
            (dt.datetime(2024, 3, 2, 17, 0), "价格/哄抬价格"),  # 2024-03-03 01:00: after the window
            (dt.datetime(2024, 3, 1, 12, 0), "质量"),
        ]
    ):
        session.add(Complaint(tracking_code=f"TZ{number}", created_at=at, text="涨价", nature=nature))
    session.commit()

    complaints = read_price_complaints(session, start=dt.date(2024, 3, 2), end=dt.date(2024, 3, 2))

    assert complaints["date"].tolist() == [pd.Timestamp("2024-03-02")]


def _alert_state(session: Session) -> list[tuple[object, ...]]:
    session.expire_all()
    return [
        (
            a.episode_key,
            a.rule_id,
            a.merchant_id,
            a.product_id,
            a.region,
            a.start_date,
            a.end_date,
            a.severity,
            a.status,
            json.dumps(a.evidence, sort_keys=True),
        )
        for a in session.scalars(select(Alert).order_by(Alert.episode_key))
    ]


def test_since_judges_every_day_as_day_by_day_runs_would(session: Session, settings: Settings) -> None:
    _seed(session)
    for index in range(DAYS):
        run_detection(session, settings, as_of=_day(index))
    day_by_day = _alert_state(session)
    assert {row[1] for row in day_by_day} >= {"market_surge", "peer_outlier", "complaint_spike"}
    session.execute(delete(Alert))
    session.commit()

    seen: list[tuple[int, int, str]] = []
    results = run_detection(
        session, settings, since=_day(0), as_of=_day(DAYS - 1), on_progress=lambda *step: seen.append(step)
    )

    assert _alert_state(session) == day_by_day
    assert all(result.action == "raised" for result in results) and len(results) == len(day_by_day)
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]
    assert run_detection(session, settings) == []  # the next daily run adds nothing twice


def test_scheduled_detection_judges_the_days_since_its_last_run(
    session: Session, settings: Settings, engine: Engine
) -> None:
    from jobs.scheduler import execute_job

    _seed(session)
    session.add(JobRun(job="detect", status="ok", details={"as_of": _day(20).isoformat()}))
    session.commit()

    assert execute_job("detect", settings, engine, owner="host:1:test") == "ok"
    assert execute_job("detect", settings, engine, owner="host:1:test") == "ok"

    runs = session.scalars(select(JobRun).where(JobRun.job == "detect").order_by(JobRun.id)).all()
    first, second = runs[1].details, runs[2].details
    assert (first["since"], first["as_of"]) == (_day(21).isoformat(), _day(DAYS - 1).isoformat())
    assert first["raised"] >= 3
    assert (second["since"], second["as_of"], second["raised"]) == (_day(DAYS - 1).isoformat(),) * 2 + (0,)


def test_cli_detect_since_until(
    session: Session, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app
    from core.config import get_settings
    from core.db import get_engine

    _seed(session)
    monkeypatch.setenv("FAIRMARKET_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRMARKET_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        early = CliRunner().invoke(
            app, ["detect", "--since", _day(0).isoformat(), "--until", _day(45).isoformat()]
        )
        rest = CliRunner().invoke(app, ["detect", "--since", _day(46).isoformat(), "--json"])
        backwards = CliRunner().invoke(
            app, ["detect", "--since", _day(9).isoformat(), "--until", _day(3).isoformat()]
        )
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()

    assert early.exit_code == 0, early.output
    assert f"检测完成（{_day(0)}..{_day(45)}）" in early.stdout
    lines = [json.loads(line) for line in rest.stdout.splitlines()]
    assert ("market_surge", "2024-04-20", "2024-04-24") in {
        (line["rule"], line["start_date"], line["end_date"]) for line in lines
    }
    assert backwards.exit_code == 2 and "晚于" in backwards.output
