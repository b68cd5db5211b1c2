"""Heartbeats of the running processes (one per bot account), so the others can take over a dead one's work."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Node

# a process beats every few seconds; this long without a beat and its unfinished work is taken over
NODE_TIMEOUT = timedelta(seconds=45)
# the node row of a deployment without `accounts:` (one process): it beats for `mulin status`, owns nothing
DEFAULT_NODE = "(default)"


def beat(*, session: Session, account: str, instance: str, now: datetime) -> str | None:
    """Record that this process is alive; returns the other instance id if another process beat for this
    account within NODE_TIMEOUT (two processes started for one account)."""
    node = session.get(Node, account, with_for_update=True)
    rival = None
    if node is None:
        node = Node(account=account, instance=instance, started_at=now, heartbeat_at=now)
    else:
        if node.instance != instance:
            if now - node.heartbeat_at < NODE_TIMEOUT:
                rival = node.instance
            node.instance, node.started_at = instance, now
            node.link_up, node.link_since, node.reconnects = None, None, 0
        node.heartbeat_at = now
    session.add(node)
    session.commit()
    return rival


def stale(*, session: Session, now: datetime, but: str | None = None) -> list[str]:
    """Accounts whose process stopped beating: their unfinished messages and sends are free to take."""
    query = select(Node.account).where(col(Node.heartbeat_at) < now - NODE_TIMEOUT, Node.account != DEFAULT_NODE)
    if but is not None:
        query = query.where(Node.account != but)
    return list(session.exec(query.order_by(Node.account)))



def link(*, session: Session, account: str, up: bool, now: datetime, wechat_id: str | None = None) -> None:
    """The gateway link went up or down (as this process sees it); a restored link counts as a reconnect.
    wechat_id: the account's own WeChat id once logged in (see bot_wechat_ids)."""
    node = session.get(Node, account, with_for_update=True)
    if node is None:
        return
    if node.link_up is not up:
        node.reconnects += bool(up and node.link_up is False)
        node.link_up, node.link_since = up, now
        session.add(node)
    if wechat_id and node.wechat_id != wechat_id:
        node.wechat_id = wechat_id
        session.add(node)
    session.commit()


def bot_wechat_ids(*, session: Session) -> set[str]:
    """The WeChat ids of every bot account on this database: a resident's @ of any of them asks the bot, whichever
    account's copy of the message was stored (handlers.addressed)."""
    return {i for i in session.exec(select(Node.wechat_id).where(col(Node.wechat_id).is_not(None)))}


def scanned(*, session: Session, account: str, at: datetime, seconds: float) -> None:
    """This process ran the due-scan at `at`, taking `seconds`."""
    node = session.get(Node, account, with_for_update=True)
    if node is not None:
        node.scan_at, node.scan_seconds = at, seconds
        session.add(node)
        session.commit()
