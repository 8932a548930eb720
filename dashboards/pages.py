"""The HTML pages (Simplified Chinese), their own CSS/JS and the bundled Plotly, served by the API app.

Pages are thin Jinja2 shells: each loads one script that reads the JSON API with ``fetch`` (staff pages
send the bearer token kept in ``sessionStorage``), so the pages never see data the API would refuse.
Plotly is served from the installed ``plotly`` wheel, so charts work offline with nothing but pip.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.price_follows import CONFIRM_WITHIN, InvalidToken, follow_for_token, unsubscribe
from complaints.classification import INDUSTRIES, NATURES
from complaints.workflow import STATUS_NAMES, TRANSITIONS
from core.display_names import display_table
from core.models import Alert, PriceObservation, Product
from dashboards import stats
from web.baskets import read_baskets
from web.deps import SessionDep, SettingsDep

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_CACHE = "public, max-age=3600"
PLOTLY_CACHE = "public, max-age=604800"
REGIONS_TTL_SECONDS = 600

templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
# Codes the API returns, with the names people read for them (the one display-name table, rendered
# once into every page; ``FM.label`` in common.js looks them up).
templates.env.globals["labels"] = {
    **display_table(),
    "nature": NATURES.names,
    "industry": INDUSTRIES.names,
    "status": dict(STATUS_NAMES),
    "transitions": {status: sorted(steps) for status, steps in TRANSITIONS.items()},
}

# path, template, page title, navigation section
PAGES = (
    ("/complaint-stats", "complaint_stats.html", "投诉统计", "public"),
    ("/complaints/new", "complaint_form.html", "我要投诉", "public"),
    ("/track", "track.html", "投诉查询", "public"),
    ("/merchants", "merchants.html", "经营者投诉档案", "public"),
    ("/staff/login", "staff/login.html", "工作人员登录", "staff"),
    ("/staff/complaints", "staff/complaints.html", "投诉检索", "staff"),
    ("/staff/crawls", "staff/crawls.html", "采集状态", "staff"),
    ("/staff/jobs", "staff/jobs.html", "定时任务", "staff"),
    ("/staff/alerts", "staff/alerts.html", "预警处理", "staff"),
    ("/staff/routed", "staff/routed.html", "转办投诉", "staff"),
    ("/staff/watches", "staff/watches.html", "我的关注", "staff"),
    ("/staff/provisional-goods", "staff/provisional_goods.html", "待归类商品", "staff"),
    ("/staff/inbox", "staff/inbox.html", "收件箱", "staff"),
    ("/staff/subscriptions", "staff/subscriptions.html", "订阅设置", "staff"),
)

router = APIRouter()
router.include_router(stats.router)


def _page(template: str, title: str, section: str) -> Callable[[Request], HTMLResponse]:
    def render(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"title": title, "section": section})

    render.__name__ = f"page_{template.replace('/', '_').removesuffix('.html')}"
    return render


@router.get("/prices", response_class=HTMLResponse, include_in_schema=False)
def prices_page(request: Request, session: SessionDep) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "prices.html",
        {
            "title": "价格走势",
            "section": "public",
            "regions": _price_regions(request, session),
            "priced_products": _priced_products(request, session),
        },
    )


def _priced_products(request: Request, session: Session) -> list[str]:
    """Codes of the goods that have any price, so the picker can grey out the others (kept REGIONS_TTL)."""
    cached: tuple[float, list[str]] | None = getattr(request.app.state, "priced_products", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > REGIONS_TTL_SECONDS:
        priced = select(PriceObservation.product_id).distinct().scalar_subquery()
        codes = list(
            session.scalars(select(Product.code).where(Product.id.in_(priced)).order_by(Product.code))
        )
        cached = (now, codes)
        request.app.state.priced_products = cached
    return cached[1]


def _price_regions(request: Request, session: Session) -> list[tuple[str, str]]:
    """(region, price type) pairs that have prices; a full scan, so kept per app for REGIONS_TTL."""
    cached: tuple[float, list[tuple[str, str]]] | None = getattr(request.app.state, "price_regions", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > REGIONS_TTL_SECONDS:
        rows = session.execute(
            select(PriceObservation.region, PriceObservation.price_type)
            .where(PriceObservation.region != "")
            .distinct()
            .order_by(PriceObservation.price_type.desc(), PriceObservation.region)
        )
        cached = (now, [(region, price_type) for region, price_type in rows])
        request.app.state.price_regions = cached
    return cached[1]


for _path, _template, _title, _section in PAGES:
    router.add_api_route(
        _path,
        _page(_template, _title, _section),
        methods=["GET"],
        response_class=HTMLResponse,
        include_in_schema=False,
    )


def _follow_page(request: Request, state: str, **context: object) -> HTMLResponse:
    titles = {"invalid": "链接无效", "confirm": "确认关注价格", "unsubscribed": "已退订"}
    return templates.TemplateResponse(
        request,
        "price_follow.html",
        {
            "title": titles.get(state, "关注价格"),
            "section": "public",
            "state": state,
            "confirm_days": CONFIRM_WITHIN.days,
            **context,
        },
        status_code={"invalid": 400, "ended": 409}.get(state, 200),
    )


@router.get("/price-follows/confirm", response_class=HTMLResponse, include_in_schema=False)
def price_follow_confirm_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str = ""
) -> HTMLResponse:
    """The confirmation mail's link: shows the follow and a button (the button confirms, not the link)."""
    try:
        follow = follow_for_token(session, settings.secret_key, token[:120], "confirm")
    except InvalidToken:
        return _follow_page(request, "invalid")
    state = {"pending": "confirm", "confirmed": "confirmed"}.get(follow.status, "ended")
    return _follow_page(request, state, follow=follow, token=token)


@router.get("/price-follows/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def price_follow_unsubscribe_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str = ""
) -> HTMLResponse:
    """Every mail's unsubscribe link: one click ends the follow and erases the address."""
    try:
        follow = unsubscribe(session, settings, token[:120])
    except InvalidToken:
        return _follow_page(request, "invalid")
    return _follow_page(request, "unsubscribed", follow=follow)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"title": "首页", "section": "public"})


@router.get("/price-index", response_class=HTMLResponse, include_in_schema=False)
def price_index_page(request: Request) -> HTMLResponse:
    """The basket choices come from the deployment's basket file, as the index API reads them."""
    baskets = read_baskets(request.app.state.settings)
    return templates.TemplateResponse(
        request,
        "price_index.html",
        {"title": "民生价格指数", "section": "public", "baskets": list(baskets.values())},
    )


@router.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
def public_alerts_page(request: Request, session: SessionDep) -> HTMLResponse:
    """价格预警公示: the filter choices are the goods and areas that have published alerts."""
    published = Alert.status != "dismissed"
    products = session.execute(
        select(Product.id, Product.name)
        .join(Alert, Alert.product_id == Product.id)
        .where(published)
        .distinct()
        .order_by(Product.name)
    ).all()
    regions = session.scalars(
        select(Alert.region).where(published, Alert.region != "").distinct().order_by(Alert.region)
    ).all()
    return templates.TemplateResponse(
        request,
        "alerts.html",
        {"title": "价格预警公示", "section": "public", "products": products, "regions": regions},
    )


@router.get("/merchants/{merchant_id:int}", response_class=HTMLResponse, include_in_schema=False)
def merchant_page(request: Request, merchant_id: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "merchant.html",
        {"title": "经营者投诉档案", "section": "public", "merchant_id": merchant_id},
    )


@router.get("/staff", response_class=RedirectResponse, include_in_schema=False)
def staff_home() -> RedirectResponse:
    return RedirectResponse("/staff/complaints", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/staff/complaints/{complaint_id:int}", response_class=HTMLResponse, include_in_schema=False)
def complaint_page(request: Request, complaint_id: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "staff/complaint.html",
        {"title": "投诉详情", "section": "staff", "complaint_id": complaint_id},
    )


@lru_cache(maxsize=1)
def _plotly_bundle() -> tuple[bytes, bytes]:
    """Plotly.js as shipped inside the ``plotly`` wheel, plain and gzipped (4.8 MB → about 1.4 MB)."""
    raw = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return raw, gzip.compress(raw, compresslevel=6)


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
def plotly_bundle(request: Request) -> Response:
    """No CDN, no Node: the chart library comes with ``pip install`` and works offline."""
    raw, packed = _plotly_bundle()
    headers = {"Cache-Control": PLOTLY_CACHE, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="text/javascript; charset=utf-8", headers=headers)
    return Response(raw, media_type="text/javascript; charset=utf-8", headers=headers)


ERROR_PAGES = {
    404: ("页面不存在", "您访问的页面不存在或已移动。请检查网址，或从下面的链接继续。"),
    405: ("页面不存在", "您访问的页面不存在或已移动。请检查网址，或从下面的链接继续。"),
    500: ("服务器出错了", "服务器处理请求时出错，我们已记录此问题。请稍后重试；如急需办理，请拨打 12315。"),
}


def error_page(request: Request, status_code: int) -> HTMLResponse:
    """The Chinese page a browser gets for an unknown address or a server error (the API keeps JSON)."""
    title, explanation = ERROR_PAGES.get(status_code, ERROR_PAGES[500])
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "section": "public", "status_code": status_code, "explanation": explanation},
        status_code=status_code,
    )
