"""Database access: engine, declarative base, tables, schema revision, locks."""
