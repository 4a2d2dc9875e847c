"""Scripted dialogue evaluation: scenarios, simulated users, τ task converters, state comparison, pass^k."""
