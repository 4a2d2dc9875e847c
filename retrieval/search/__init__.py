"""Product search: hybrid keyword + dense retrieval over a Chroma index of every variant."""

from retrieval.search.engine import Search, SearchUnavailable, Weights
from retrieval.search.index import CatalogIndex, SyncReport
from retrieval.search.models import ParsedQuery, SearchHit, SearchRequest, SearchResponse

__all__ = [
    "CatalogIndex",
    "ParsedQuery",
    "Search",
    "SearchHit",
    "SearchRequest",
    "SearchResponse",
    "SearchUnavailable",
    "SyncReport",
    "Weights",
]
