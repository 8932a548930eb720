"""Public catalogue of monitored goods: categories and standard units (cached like the price reads)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from api.public_reads import PublicReadsDep
from api.schemas.products import CategoriesPublic, ProductsPublic, category_public, product_public
from core.models import Category, Product

router = APIRouter(prefix="/products", tags=["products"])


@router.get("", response_model=ProductsPublic)
async def list_products(
    request: Request,
    reads: PublicReadsDep,
    category: str | None = Query(
        None, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", description="category code, e.g. vegetables"
    ),
) -> Response:
    return await reads.respond(request, ("products", category), partial(read_products, category=category))


def read_products(session: Session, *, category: str | None) -> ProductsPublic:
    statement = (
        select(Product)
        .join(Product.category)
        .options(selectinload(Product.category).selectinload(Category.parent))
    )
    if category is not None:
        found = session.scalar(select(Category.id).where(Category.code == category))
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"未知的商品类别：{category}")
        statement = statement.where(or_(Category.id == found, Category.parent_id == found))
    products = session.scalars(statement.order_by(Category.id, Product.id)).all()
    return ProductsPublic(data=[product_public(product) for product in products], count=len(products))


@router.get("/categories", response_model=CategoriesPublic)
async def list_categories(request: Request, reads: PublicReadsDep) -> Response:
    return await reads.respond(request, ("categories",), read_categories)


def read_categories(session: Session) -> CategoriesPublic:
    categories = session.scalars(select(Category).order_by(Category.id)).all()
    return CategoriesPublic(
        data=[category_public(category) for category in categories],
        count=len(categories),
    )
