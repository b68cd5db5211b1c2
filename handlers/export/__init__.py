"""Tickets for other systems: the 12345-style Excel ledger (ledger) and Open311 GeoReport v2 JSON (open311), from the
fields both share (fields). The queries are storage/export.py; the command is `mulin export` (bot/cli/export.py)."""
