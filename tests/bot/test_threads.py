"""Threads through real wechaty: quote replies, split messages, a place alone, several problems, chase-ups.

The cases are data (tests/data/threads/cases.yaml), each with its mirror image."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import func, select

from bot.sim.harness import Community
from bot.sim.scenario import parse_duration
from storage.db import new_session
from storage.models import TicketEvent, TicketFollower

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "threads" / "cases.yaml").read_text("utf-8"))
ROOM = "20002@chatroom"
DELIMITER = "\n- - - - - - - - - - - - - - -\n"


def quoting(c: Community, who: str, reply: str) -> str:
    """What WeChat delivers for a quote reply of `who`'s (or the bot's) last message in the group."""
    if who == "bot":
        last = c.sent(room=ROOM)[-1]
        names = {p.id: p.name for p in c.scenario.contacts}
        name, text = c.scenario.self_.name, "".join(f"@{names[m]}\u2005" for m in last.mentions) + last.text
    else:
        last = [r for r in c.records if r["type"] == "receive" and r["from"] == who and r["room"] == ROOM][-1]
        name, text = c.world.contacts[who].name, last["text"]
    return f"「{name}：{text}」{DELIMITER}{reply}"


async def play_steps(c: Community, steps: list[dict]) -> None:
    for step in steps:
        if "wait" in step:
            await c.wait(parse_duration(step["wait"]))
        elif "dm" in step:
            await c.dm(step["dm"], step["text"])
        else:
            text = quoting(c, step["quote"], step["text"]) if "quote" in step else step["text"]
            mentions = None
            if "at" in step:  # @-mentions the bot (bot, or bot_end: after the text) or a contact, as WeChat writes it
                who = c.scenario.self_ if step["at"] in ("bot", "bot_end") else c.world.contacts[step["at"]]
                name, mentions = f"@{who.name}", [who.id]
                text = f"{text} {name}" if step["at"] == "bot_end" else f"{name}\u2005{text}"
            await c.post(ROOM, step["from"], text, after=parse_duration(step.get("after", "1s")), mentions=mentions)
    await c.drain()


def counts(engine, ticket_id: int) -> tuple[int, int]:
    with new_session(engine) as session:
        followers = session.exec(select(func.count()).select_from(TicketFollower)
                                 .where(TicketFollower.ticket_id == ticket_id)).one()
        chases = session.exec(select(func.count()).select_from(TicketEvent)
                              .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "chased")).one()
    return followers, chases


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_thread_case(case, play, engine, stored_tickets):
    expect = case["expect"]
    seen: dict = {}

    async def story(c: Community):
        await play_steps(c, case["steps"])
        seen["group"] = [s.text for s in c.sent(room=ROOM)]
        seen["dm"] = {who: [s.text for s in c.sent(to=who)] for who in {*expect.get("dm", {}), *expect.get("dm_not", {})}}

    play(story, "threads.yaml")
    tickets = stored_tickets()
    why = f"{case['name']} ({case['why']}); group said {seen['group']}"
    assert len(tickets) == len(expect["tickets"]), why
    for ticket, want in zip(tickets, expect["tickets"]):
        followers, chases = counts(engine, ticket.id)
        got = {"category": ticket.category, "building": ticket.building, "status": ticket.status.value,
               "followers": followers, "reopens": ticket.reopen_count, "chases": chases}
        assert {k: got[k] for k in want} == want, why
    for text in expect.get("group", []):
        assert any(text in said for said in seen["group"]), f"{text!r} not said: {why}"
    for text in expect.get("group_not", []):
        assert not any(text in said for said in seen["group"]), f"{text!r} said: {why}"
    if "group_count" in expect:
        assert len(seen["group"]) == expect["group_count"], why
    for who, wanted in expect.get("dm", {}).items():
        for text in wanted:
            assert any(text in said for said in seen["dm"][who]), f"{text!r} not sent to {who}: {seen['dm'][who]}"
    for who, unwanted in expect.get("dm_not", {}).items():
        for text in unwanted:
            assert not any(text in said for said in seen["dm"][who]), f"{text!r} sent to {who}: {seen['dm'][who]}"


def test_a_ticket_a_worker_filed_names_them_and_its_message_counts_as_filed(play, engine, stored_tickets):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "2号楼停车场好多油渍啊")
        await c.post(ROOM, "wxid_zhaoqiang", quoting(c, "wxid_zhang", "帮忙登记一下"), after=parse_duration("2m"))
        await c.drain()

    play(story, "threads.yaml")
    [ticket] = stored_tickets()
    assert (ticket.reporter_id, ticket.text) == ("wxid_zhang", "2号楼停车场好多油渍啊")
    with new_session(engine) as session:
        created = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "created")).one()
        assert created.actor_id == "wxid_zhaoqiang" and "代为登记" in created.note
        from storage.threads import quoted_ticket
        assert quoted_ticket(session=session, room_id=ROOM, author="张阿姨", text="2号楼停车场好多油渍啊").id == ticket.id
