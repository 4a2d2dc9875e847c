"""The LangGraph checkpointer of the tools agent, in the store database.

A SQLite store keeps the checkpoints in the same file (LangGraph's tables `checkpoints` and
`writes` beside Aisle's), so a backup or copy of the store carries its conversations. Any other
database (e.g. PostgreSQL) keeps them in `agent_checkpoints.db` in AISLE_DATA_DIR for now:
langgraph-checkpoint-postgres is the drop-in for a shared server.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import make_url


def checkpointer_for(store):
    from langgraph.checkpoint.sqlite import SqliteSaver

    from retrieval.config import get_settings

    url = make_url(store.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = url.database
    else:
        path = str(get_settings().data_dir / "agent_checkpoints.db")
    # One connection shared by the server's threads: SqliteSaver serialises its use with a lock.
    conn = sqlite3.connect(path, check_same_thread=False, timeout=get_settings().db_busy_timeout_s or 5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver
