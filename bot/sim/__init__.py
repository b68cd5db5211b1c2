"""Everything that plays WeChat instead of WeChat: the gateway simulator (simulator, server for `mulin sim`),
scenario files (scenario), the in-process community the demo and tests drive (harness, demo), and the
kill -9 crash test of two real processes (chaos)."""
