"""Tickets as Open311 GeoReport v2 service requests, for the street office's systems."""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from core.config import Config
from handlers.export.fields import address, grid_name, worker_name
from handlers.texts import mask
from storage.models import Ticket
from storage.tickets import VOIDED_RESULT


def _iso(at: datetime | None, tz: tzinfo) -> str | None:
    return at.astimezone(tz).isoformat(timespec="seconds") if at else None


def media_url(ticket: Ticket, photo_id: int | None, config: Config) -> str | None:
    """The ticket's first photo under the web console's public address; never for a private ticket."""
    base = config.photos.public_url or config.web.public_url
    if not base or photo_id is None or ticket.category in config.private_categories:
        return None
    return f"{base.rstrip('/')}/photos/{photo_id}"


def service_request(ticket: Ticket, *, config: Config, tz: tzinfo, latest_note: str | None,
                    photo_id: int | None = None) -> dict[str, Any]:
    worker = worker_name(config, ticket)
    agency = " ".join(p for p in (grid_name(config, ticket), f"网格员{worker}" if worker else "") if p)
    # an open ticket may be a reopened one whose old resolution note no longer holds; a voided one (撤销) was never a
    # request, and the staff's reason for voiding it is for the secretaries, not for the street office's systems
    note = (VOIDED_RESULT if ticket.voided else latest_note if ticket.status.is_open
            else ticket.resolution_note or latest_note)
    return {
        "service_request_id": str(ticket.id),
        "status": "open" if ticket.status.is_open else "closed",
        "status_notes": mask(note) if note else None,
        "service_name": ticket.category_name,
        "service_code": ticket.category,
        "description": mask(ticket.text),
        "agency_responsible": agency or config.community.name,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at, tz),
        "updated_datetime": _iso(ticket.updated_at, tz),
        "expected_datetime": _iso(ticket.resolve_due_at, tz),
        "address": address(config, ticket),
        "urgent": ticket.urgent,
        "rating": ticket.rating,
        "reopen_count": ticket.reopen_count,
        "media_url": media_url(ticket, photo_id, config),
    }


def service_requests(tickets: list[Ticket], *, config: Config, tz: tzinfo, notes: dict[int, str],
                     photos: dict[int, int] | None = None) -> list[dict]:
    """photos: each ticket's first photo id (for media_url)."""
    return [service_request(t, config=config, tz=tz, latest_note=notes.get(t.id), photo_id=(photos or {}).get(t.id))
            for t in tickets]
