"""The `mulin` command: the parser and one function per subcommand (main), and the operator commands that read
the database: db (schema), digest, export, tickets."""
