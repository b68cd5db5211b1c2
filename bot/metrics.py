"""Prometheus metrics of `mulin run` (config `health.metrics_port`), in prometheus_client's conventions.

Counters are kept by this process; queue depths and the gateway link are read from the database at each
scrape (storage/health.py), so they agree with `mulin status` and cover every process on the database.
"""
from __future__ import annotations

import logging
from typing import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from storage import health
from storage.db import new_session
from storage.models import Ticket, TicketEvent

log = logging.getLogger("mulin.metrics")


class _Database(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with new_session(self.engine) as session:
                evidence = health.gather(session=session)
        except Exception:  # noqa: BLE001 - a scrape while the database is away shows the counters only
            log.warning("metrics: cannot read the database", exc_info=True)
            return
        inbox = GaugeMetricFamily("mulin_inbox_messages", "Stored messages not yet handled, by account and state",
                                  labels=["account", "state"])
        for account, box in sorted(evidence.inbox.items()):
            for state in ("received", "failed", "parked"):
                inbox.add_metric([account, state], getattr(box, state))
        yield inbox
        outbox = GaugeMetricFamily("mulin_outbox_messages", "Replies waiting or given up, by state", labels=["state"])
        for state in ("pending", "sending", "held", "failed", "retrying"):
            outbox.add_metric([state], getattr(evidence.outbox, state))
        yield outbox
        link = GaugeMetricFamily("mulin_gateway_up", "1 while the account's gateway link is up", labels=["account"])
        for node in evidence.nodes:
            if node.link_up is not None:
                link.add_metric([node.account], 1.0 if node.link_up else 0.0)
        yield link


class Metrics:
    """One registry per process (not the global one), so tests can run several apps side by side."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter("mulin_messages_received", "Messages received and stored (redeliveries not counted)",
                                registry=self.registry)
        self.tickets = Counter("mulin_tickets_filed", "Tickets filed", registry=self.registry)
        self.sends = Counter("mulin_sends", "WeChat messages handed to the gateway, by outcome", ["outcome"],
                             registry=self.registry)
        self.reconnects = Counter("mulin_gateway_reconnects", "Gateway links restored", registry=self.registry)
        self.scan_seconds = Histogram("mulin_scan_duration_seconds", "Duration of the due-scan (with the purge)",
                                      registry=self.registry, buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30))
        for outcome in ("sent", "failed", "disconnected"):
            self.sends.labels(outcome)
        self.registry.register(_Database(engine))
        self._server = None

    def reconnected(self) -> None:
        self.reconnects.inc()

    def on_ticket_event(self, event: TicketEvent, ticket: Ticket) -> None:
        if event.kind == "created":
            self.tickets.inc()

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on a thread; returns the port (0 picks a free one)."""
        self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        return self._server.server_port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
