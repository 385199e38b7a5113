"""Connectors: where documents and their permissions come from (a folder with a JSONL manifest,
a generic JSONL export), and ``sync``, which brings an index up to date with one of them."""
