"""抽查: residents' group messages the bot did not file, drawn for a secretary or the street office to read against
classifier/LABELS.md (handlers.spotcheck draws them). What it shows and counts: the misses nobody reported, with an
estimate of how many there are from the randomly drawn ones, and signed real group lines to train on."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from core.config import Config, Staff
from handlers.spotcheck import RANDOM, SAMPLES, kept_days, visible_in
from handlers.texts import mask
from storage import spotcheck
from storage.models import MessageReview
from web.corrections import Labels, categories, signed_text
from web.present import local

ROUGH_BELOW = 30  # readings: below this the estimate is shown as only a first indication
Z95 = 1.959964  # the normal quantile of a two-sided 95 % interval
SHOWN = 100  # the oldest pending this many on the page: their texts are purged first


def visible(config: Config, staff: Staff) -> spotcheck.Visible:
    """The groups whose messages a person may read: a secretary their community's, the street office all."""
    return visible_in(config, config.community_of_staff(staff))


@dataclass(frozen=True)
class Estimate:
    """Of the randomly drawn messages people read: how many, and how many were requests the bot missed."""

    read: int
    requests: int

    @property
    def share(self) -> float | None:
        return self.requests / self.read if self.read else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """Wilson's 95 % score interval for the share: where the share among all the bot's unfiled messages lies,
        given these readings (0 of 40 read still allows up to ~9 %). None before any reading."""
        if not self.read:
            return None
        n, p, z2 = self.read, self.requests / self.read, Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    @property
    def between(self) -> str:
        """The interval as a page shows it: "2.2%到11.2%"."""
        low, high = self.interval or (0.0, 0.0)
        return f"{100 * low:.1f}%到{100 * high:.1f}%"

    @property
    def rough(self) -> bool:
        """Too few readings for the share to say much (fewer than ROUGH_BELOW)."""
        return self.read < ROUGH_BELOW


def estimate(reviews: list[MessageReview]) -> Estimate:
    randoms = [r for r in reviews if r.sample == RANDOM]
    return Estimate(len(randoms), sum(r.is_request for r in randoms))


def estimate_for(*, session: Session, config: Config, staff: Staff) -> Estimate:
    """The estimate over every signed reading in the groups this person may read."""
    return estimate([r for r, _ in spotcheck.signed(session=session, visible=visible(config, staff))])


def page(*, session: Session, config: Config, staff: Staff, now: datetime, pending_only: bool,
         sent: tuple[int, Labels] | None = None) -> dict:
    """The drawn messages one may read whose text is still kept (oldest first: the first to go), with the form's
    labels (what was just sent and refused, else the signed ones, else none), the counts and the estimate."""
    see = visible(config, staff)
    found = spotcheck.drawn(session=session, since=now - timedelta(days=kept_days(config)), visible=see)
    reviews = spotcheck.reviews_of(session=session, row_ids=[m.id for m in found])
    pending = [m for m in found if m.id not in reviews]
    listed = pending if pending_only else found
    rows = []
    for m in listed[:SHOWN]:
        review = reviews.get(m.id)
        if sent is not None and sent[0] == m.id:
            labels = sent[1]
        elif review is not None:
            labels = Labels(review.is_request, review.category, review.urgent)
        else:
            labels = Labels(None, None, False)
        rows.append({"id": m.id, "at": local(m.received_at, config, "%m-%d %H:%M"), "room": m.room_topic or m.room_id,
                     "text": mask(m.text), "sample": SAMPLES.get(m.spot_check or "", ""), "labels": labels,
                     "review": signed_text(review, categories(), config)})
    signed = [r for r, _ in spotcheck.signed(session=session, visible=see)]
    return {"rows": rows, "pending": len(pending), "kept": len(found), "more": max(0, len(listed) - SHOWN),
            "estimate": estimate(signed), "signed": len(signed), "keep_days": kept_days(config)}


def sign(*, session: Session, config: Config, staff: Staff, row_id: int, labels: Labels, now: datetime) -> bool:
    """Save the labels of one drawn message one may read, with its masked text; False when it is no such message
    (not drawn, another community's, or its text already purged)."""
    message = spotcheck.one(session=session, row_id=row_id, since=now - timedelta(days=kept_days(config)),
                            visible=visible(config, staff))
    if message is None:
        return False
    spotcheck.save_review(session=session, message=message, text=mask(message.text), is_request=bool(labels.request),
                          category=labels.category, urgent=labels.urgent, reviewer_id=staff.id,
                          reviewer_name=staff.name, now=now)
    return True
