"""The catalogue endpoints' response models, and how a stored product or category becomes one."""

from __future__ import annotations

from pydantic import BaseModel

from core.models import Category, Product


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
