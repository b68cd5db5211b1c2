"""Who handles a ticket: the building's grid, else the group's default grid; its worker."""
from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, Grid, Staff
from storage.staff import StaffDirectory


@dataclass(frozen=True)
class Route:
    grid: Grid | None  # None: a staff member without a grid (a secretary) takes it
    worker: Staff
    worker_wechat_id: str | None  # None: the worker has not bound WeChat yet


def route(*, config: Config, directory: StaffDirectory, building: str | None, room_id: str | None,
          room_topic: str | None) -> Route | None:
    grid = config.grid_of_building(building) if building else None
    if grid is None and room_id is not None:
        group = config.group_for(room_id, room_topic)
        grid = config.grid_by_id(group.grid) if group else None
    if grid is None:
        return None
    worker = config.staff_by_id(grid.worker)
    assert worker is not None  # config validation guarantees every grid's worker exists
    return Route(grid, worker, directory.wechat_id_of(worker.id))

