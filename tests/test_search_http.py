"""With AISLE_CHROMA_URL set, the same index code talks to a real Chroma server (`chroma run`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from retrieval.config import get_settings
from retrieval.search import CatalogIndex, Search, SearchRequest
from eval.stack import free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma server did not start: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_index_and_search_through_a_chroma_server(chroma_server, seeded_store, monkeypatch):
    monkeypatch.setenv("AISLE_CHROMA_URL", chroma_server)
    get_settings.cache_clear()
    index = CatalogIndex.from_settings()
    assert "fastapi" in index.client.get_settings().chroma_api_impl.lower()  # HTTP, not embedded
    products = [p for p in seeded_store.products() if p.name in {"T-Shirt", "Backpack", "Tea Kettle"}]
    report = index.sync(products, progress=False)
    assert report.added == sum(len(p.variants) for p in products)
    assert index.sync(products, progress=False).unchanged == report.added  # hashes read back from the server
    resp = Search(index).search(SearchRequest(query="blue cotton t-shirt size M", k=3))
    assert resp.hits[0].item_id == "9612497925"
    assert not (get_settings().chroma_dir).exists()  # nothing was written to the embedded location
