"""Alembic migration environment for the FairMarket schema."""
