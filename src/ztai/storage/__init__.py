"""Persistence behind small interfaces: one module per backend, one contract suite for all."""
