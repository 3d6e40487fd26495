"""X12 835 remittances: a streaming tokenizer, a reader that builds typed records and
checks every rule that rejects or warns, and the loader into the 835 tables.

- :mod:`~reconcile.ingest.x12.tokenizer`: bytes → segment texts, delimiters from ISA;
- :mod:`~reconcile.ingest.x12.reader`: segments → records, with
  :mod:`~reconcile.ingest.x12.envelope`, :mod:`~reconcile.ingest.x12.payments`,
  :mod:`~reconcile.ingest.x12.claims` and :mod:`~reconcile.ingest.x12.balance`;
- :mod:`~reconcile.ingest.x12.load`: records → rows, in bulk (imports the database
  layer, so it is not imported here: the reader alone stays light).
"""
