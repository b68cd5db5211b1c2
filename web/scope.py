"""Who sees which tickets, as one SQL condition on Ticket (None: all). A ticket outside it does not exist for them:
404 on its page, and absent from every list, count and download."""
from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import col

from core.config import ApiKey, Config, Staff
from handlers.digest import audience
from storage.kpi import Scope
from storage.models import Ticket


def community(config: Config, community_id: str | None) -> Scope:
    """One community's tickets (None: all of them, or the deployment has only one community)."""
    return audience(config, community_id)[1] if community_id is not None else None


def of_staff(config: Config, staff: Staff) -> Scope:
    """A grid worker: the tickets of their grids and those assigned to them; a secretary: their community's;
    street staff: everything."""
    if staff.role == "street":
        return None
    if staff.role == "secretary":
        return community(config, config.community_of_staff(staff))
    grids = [g.id for g in config.grids if g.worker == staff.id]
    return or_(col(Ticket.grid_id).in_(grids), Ticket.assignee_staff_id == staff.id)


def of_api_key(config: Config, key: ApiKey) -> Scope:
    return community(config, key.community)


def grids_in(config: Config, staff: Staff) -> list:
    """The grids a person may filter by."""
    if staff.role == "grid_worker":
        return [g for g in config.grids if g.worker == staff.id]
    mine = config.community_of_staff(staff)
    return config.grids_of(mine) if mine is not None else list(config.grids)
