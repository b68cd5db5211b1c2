"""`mulin bench`: benchmarks that print a ratio against a baseline measured in the same run: e2e (throughput
against an echo bot) and start (start to first reply against a bare python-wechaty client), digest, schema and
scale (one process against two on the same PostgreSQL)."""
