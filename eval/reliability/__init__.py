"""The reliability and security suite: `aisle eval reliability`.

Each category is one module with `run(options) -> CategoryResult`; `cli.py` runs them and prints
the counts. Categories: bad_input, authorisation (prompt injection and tampering), load, faults,
durability, limits (rate and size limits, log redaction).
"""
