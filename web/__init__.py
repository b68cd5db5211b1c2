"""The web console (`mulin web serve`): the ledger, one ticket's case, the numbers, downloads, and the read-only
Open311 GeoReport v2 API, on the bot's own database. A layer on top of handlers/, beside bot/."""
