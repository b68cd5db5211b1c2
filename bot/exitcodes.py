"""Exit codes of the `mulin` command, shared by the CLI and `mulin run`."""

EXIT_CONFIG = 2    # config.yaml or a scenario file is invalid
EXIT_GATEWAY = 3   # the puppet-service gateway is missing, unreachable or closed the stream
EXIT_DATABASE = 4  # the database cannot be reached
EXIT_SCHEMA = 5    # the database schema is behind (run `mulin db upgrade`) or newer than this mulin
