"""Public catalogue of monitored goods: categories and standard units (cached like the price reads)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from api.public_reads import PublicReadsDep
from core.models import Category, Product

router = APIRouter(prefix="/products", tags=["products"])


class CategoryPublic(BaseModel):
    code: str
    name: str
    parent: str | None = None  # the parent category's code (蔬菜 for 叶菜类); None at the top
    coicop: str | None = None  # COICOP 2018 class, where one fits


class CategoriesPublic(BaseModel):
    data: list[CategoryPublic]
    count: int


class ProductPublic(BaseModel):
    id: int
    code: str
    name: str
    standard_unit: str
    price_unit: str
    essential: bool
    category: CategoryPublic


class ProductsPublic(BaseModel):
    data: list[ProductPublic]
    count: int


def product_public(product: Product) -> ProductPublic:
    return ProductPublic(
        id=product.id,
        code=product.code,
        name=product.name,
        standard_unit=product.standard_unit,
        price_unit=price_unit(product.standard_unit),
        essential=product.essential,
        category=category_public(product.category),
    )


def category_public(category: Category) -> CategoryPublic:
    return CategoryPublic(
        code=category.code,
        name=category.name,
        parent=category.parent.code if category.parent else None,
        coicop=category.coicop,
    )


def price_unit(standard_unit: str) -> str:
    """How a price per standard unit reads: 元/500g, 元/L, 元/件."""
    return "元/件" if standard_unit == "piece" else f"元/{standard_unit}"


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
