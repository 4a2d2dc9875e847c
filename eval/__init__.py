"""Eval: evaluation commands and benchmarks for every capability."""
