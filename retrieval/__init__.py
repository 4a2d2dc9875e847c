"""Retrieval: the shop's data (store database, settings) and finding things in it (catalog, index, search).

This is the bottom layer of Aisle: recsys, assistant and ui import it; it imports none of them.
"""
