"""Vendored test data: the schemas that HACS and hassfest check our files against."""
