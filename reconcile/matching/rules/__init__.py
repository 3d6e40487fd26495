"""One matching rule per module; :mod:`reconcile.matching.registry` orders them."""
