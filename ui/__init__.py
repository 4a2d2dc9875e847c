"""UI: the ways people reach Aisle (command line, and later the web chat, widget and HTTP API).

The top layer: it may import every other package, and nothing imports it.
"""
