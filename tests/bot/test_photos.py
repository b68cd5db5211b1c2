"""Photos through the real python-wechaty client and the simulator's file RPCs: they join tickets, reach the
worker and (整改后) the reporter, are stored once, and bad pictures are recorded and refused."""
from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import random
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlmodel import func, select

from bot.cli.export import export_open311
from bot.cli.tickets import print_tickets
from bot.sim.harness import Community
from storage.attachments import inspect_image, ticket_photos
from storage.db import new_session
from storage.models import Attachment, AttachmentBlob, AttachmentState, IncomingMessage

ROOM, OTHER = "20001@chatroom", "29999@chatroom"  # a served residents' group; 广场舞交流群, not configured
COMPLAINT = "A2和百意中间路面存在积水"
ROOT = Path(__file__).resolve().parents[2]


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small photo whose bytes differ by seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(200):
        image.putpixel((rng.randrange(size[0]), rng.randrange(size[1])), (rng.randrange(256),) * 3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def rows(engine, model):  # noqa: ANN001
    with new_session(engine) as session:
        return list(session.exec(select(model).order_by(model.id if hasattr(model, "id") else model.sha256)))


def files_to(c: Community, **where) -> list[bytes]:
    return [s.file_data for s in c.sent(**where) if s.file_name is not None]


def test_photo_then_words_joins_the_ticket_and_reaches_the_worker_with_the_notice(make, engine, stored_tickets):
    before = jpeg(1)

    async def main():
        async with make() as c:
            await c.photo("wxid_zhang", "puddle.jpg", before, room=ROOM)
            assert c.sent() == []  # a picture alone is no complaint: nothing said in the group
            await c.post(ROOM, "wxid_zhang", COMPLAINT, after=timedelta(minutes=2))
            notice, picture = c.sent(to="wxid_wangfang")
            assert "新工单#1" in notice.text and "现场照片1张" in notice.text
            assert picture.file_data == before and picture.file_name.endswith(".jpg")
            assert c.sim.file_fetches == 1
    asyncio.run(main())
    [ticket] = stored_tickets()
    [photo] = rows(engine, Attachment)
    assert (photo.ticket_id, photo.role, photo.state) == (ticket.id, "before", AttachmentState.STORED)
    assert photo.sha256 == hashlib.sha256(before).hexdigest() and photo.size == len(before)
    with new_session(engine) as session:
        [shown] = ticket_photos(session=session, ticket_id=ticket.id)
    assert shown.data == before and shown.mime == "image/jpeg" and (shown.width, shown.height) == (320, 240)


def test_words_then_photo_follows_as_more_photos_and_a_copy_is_stored_once(make, engine, stored_tickets):
    photo = jpeg(2)

    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            await c.photo("wxid_zhang", "a.jpg", photo, room=ROOM, after=timedelta(seconds=90))
            await c.photo("wxid_zhang", "a-again.jpg", photo, room=ROOM)  # the same picture sent twice
            texts = [s.text for s in c.sent(to="wxid_wangfang")]
            assert "新工单#1" in texts[0] and "现场照片" not in texts[0]
            assert "工单#1 补充照片1张" in texts[1]
            assert files_to(c, to="wxid_wangfang") == [photo]  # once, not twice
            assert files_to(c, room=ROOM) == []  # a resident's photo never goes back into the group
    asyncio.run(main())
    [ticket] = stored_tickets()
    first, second = rows(engine, Attachment)
    assert first.ticket_id == ticket.id and second.ticket_id is None and first.sha256 == second.sha256
    assert len(rows(engine, AttachmentBlob)) == 1


def test_a_photo_far_from_any_complaint_and_one_from_another_resident_stay_unlinked(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            await c.photo("wxid_zhang", "old.jpg", jpeg(3), room=ROOM)
            await c.post(ROOM, "wxid_zhang", COMPLAINT, after=timedelta(minutes=4))  # more than 3 minutes later
            await c.photo("wxid_li", "li.jpg", jpeg(4), room=ROOM)  # someone else's picture
            await c.photo("wxid_zhang", "late.jpg", jpeg(5), room=ROOM, after=timedelta(minutes=4))
            assert files_to(c) == [] and len(c.sent(to="wxid_wangfang")) == 1
    asyncio.run(main())
    assert [p.ticket_id for p in rows(engine, Attachment)] == [None, None, None]


def test_photo_while_the_bot_waits_for_the_building_goes_with_the_later_notice(make, engine, stored_tickets):
    photo = jpeg(6)

    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", "楼道灯又不亮了，晚上上楼黑乎乎的")
            assert "几号楼" in c.sent(room=ROOM)[-1].text
            await c.photo("wxid_zhang", "dark.jpg", photo, room=ROOM, after=timedelta(minutes=5))
            assert c.sent(to="wxid_wangfang") == []
            await c.post(ROOM, "wxid_zhang", "A1的2单元")
            notice, picture = c.sent(to="wxid_wangfang")
            assert "现场照片1张" in notice.text and picture.file_data == photo
    asyncio.run(main())


def test_after_photo_before_or_after_resolve_reaches_reporter_and_group(make, engine, stored_tickets):
    after_1, after_2 = jpeg(7), jpeg(8)

    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            await c.dm("wxid_wangfang", "接 1")
            await c.photo("wxid_wangfang", "fixed.jpg", after_1, after=timedelta(minutes=30))
            assert files_to(c, room=ROOM) == []  # waits for 办结
            assert "请在10分钟内回复“办结" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_wangfang", "办结 1 已清理", after=timedelta(minutes=8))
            assert files_to(c, room=ROOM) == [after_1]
            assert any("整改后照片" in s.text for s in c.sent(room=ROOM))
            assert "整改后照片1张" in c.sent(to="wxid_wangfang")[-1].text
            await c.photo("wxid_wangfang", "fixed2.jpg", after_2, after=timedelta(minutes=2))  # after 办结
            assert files_to(c, room=ROOM) == [after_1, after_2]
            assert files_to(c, to="wxid_zhang") == [after_1, after_2]  # and to the reporter, privately
            private = [s.text for s in c.sent(to="wxid_zhang")]
            assert "整改后照片" in private[0] and "问题解决了吗" in private[2]  # before the rating question
    asyncio.run(main())
    roles = [(p.ticket_id, p.role) for p in rows(engine, Attachment)]
    assert roles == [(1, "after"), (1, "after")]


def test_after_photo_of_a_private_ticket_goes_only_to_the_reporter(make, engine, stored_tickets):
    fixed = jpeg(9)

    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", "A1楼上邻居天天半夜吵架摔东西，受不了了")
            [ticket] = stored_tickets()
            assert ticket.category == "dispute"
            await c.dm(ticket_worker(ticket), f"办结 {ticket.id} 已上门调解")
            await c.photo(ticket_worker(ticket), "talk.jpg", fixed)
            assert files_to(c, room=ROOM) == [] and files_to(c, to="wxid_zhang") == [fixed]
    asyncio.run(main())


def ticket_worker(ticket) -> str:  # noqa: ANN001
    return {"wangfang": "wxid_wangfang", "zhaoqiang": "wxid_zhaoqiang"}[ticket.assignee_staff_id]


def test_a_photo_older_than_ten_minutes_is_no_after_photo(make, engine):
    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            await c.photo("wxid_wangfang", "early.jpg", jpeg(10))
            await c.dm("wxid_wangfang", "办结 1 已清理", after=timedelta(minutes=11))
            await c.photo("wxid_wangfang", "late.jpg", jpeg(11), after=timedelta(minutes=11))
            assert files_to(c, room=ROOM) == []
            await c.photo("wxid_wangfang", "broken.jpg", jpeg(12)[:300])
            assert "不是图片或已损坏" in c.sent(to="wxid_wangfang")[-1].text
    asyncio.run(main())
    assert [p.ticket_id for p in rows(engine, Attachment)] == [None, None, None]


def test_bad_pictures_are_recorded_refused_and_logged(make, engine, stored_tickets, caplog):
    caplog.set_level(logging.INFO)
    good = jpeg(12)
    truncated = good[: len(good) // 2]
    text_as_jpg = "这不是图片，只是改了扩展名".encode() * 20
    huge = random.Random(1).randbytes(50 * 1024 * 1024)  # 50 MB

    async def main():
        async with make() as c:
            await c.photo("wxid_zhang", "broken.jpg", truncated, room=ROOM)
            await c.photo("wxid_zhang", "note.jpg", text_as_jpg, room=ROOM)
            served_before = c.sim.file_bytes_served
            await c.photo("wxid_zhang", "huge.jpg", huge, room=ROOM)
            # the client stops reading past 5 MB; what the gateway had already pushed into the HTTP/2 flow-control
            # windows was ~8 MB here (2026-12-06), far from the 50 MB
            assert c.sim.file_bytes_served - served_before < 16 * 1024 * 1024
            await c.photo("wxid_zhang", "elsewhere.jpg", good, room=OTHER)  # a group mulin does not serve
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            assert files_to(c) == [] and "现场照片" not in c.sent(to="wxid_wangfang")[0].text
    asyncio.run(main())
    states = [(p.name, p.state) for p in rows(engine, Attachment)]
    assert states == [("broken.jpg", AttachmentState.NOT_IMAGE), ("note.jpg", AttachmentState.NOT_IMAGE),
                      ("huge.jpg", AttachmentState.TOO_LARGE)]
    assert 5 * 2**20 < rows(engine, Attachment)[2].size <= 5 * 2**20 + 64 * 1024  # one chunk past the limit
    assert rows(engine, AttachmentBlob) == [] and [t.id for t in stored_tickets()] == [1]
    with new_session(engine) as session:
        assert session.exec(select(func.count()).select_from(IncomingMessage)
                            .where(IncomingMessage.room_id == OTHER)).one() == 0
    log = caplog.text
    assert "is not an image" in log and "larger than photos.max_mb (5 MB" in log
    assert "ignoring group 29999@chatroom" in log and "Traceback" not in log


def test_a_flood_of_pictures_is_cut_off_and_the_ticket_keeps_nine(make, engine, stored_tickets, caplog):
    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            for n in range(14):
                await c.photo("wxid_zhang", f"{n}.jpg", jpeg(100 + n), room=ROOM, settle=False)
            await c.drain()
            assert len(files_to(c, to="wxid_wangfang")) == 9
            await c.post(ROOM, "wxid_li", "A1的路灯坏了好几天了", after=timedelta(seconds=5))  # the group still works
            assert "工单#2" in c.sent(room=ROOM)[-1].text
    asyncio.run(main())
    states = [p.state for p in rows(engine, Attachment)]
    assert states.count(AttachmentState.STORED) == 9 and states.count(AttachmentState.FLOOD) == 5
    assert "a flood" in caplog.text


def test_a_gateway_without_the_stream_rpcs_is_read_through_the_file_box(make, engine, stored_tickets):
    photo = jpeg(13)

    async def main():
        async with make() as c:
            c.sim.file_streams = False
            await c.photo("wxid_zhang", "p.jpg", photo, room=ROOM)
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            assert files_to(c, to="wxid_wangfang") == [photo]
    asyncio.run(main())


def test_the_photo_scenario_plays_and_its_transcript_names_the_files(make, engine, config, database_url):
    async def main():
        async with make("photos.yaml") as c:
            await c.play()
            sends = [r for r in c.records if r["type"] == "send" and "file" in r]
            assert sorted((r["to"] or "", r["room"] or "") for r in sends) == [
                ("", ROOM), ("wxid_wangfang", ""), ("wxid_zhang", "")]
            received = [r for r in c.records if r["type"] == "receive" and "file" in r]
            assert [r["file"] for r in received] == ["a2_puddle_before.jpg", "a2_puddle_after.jpg"]
    asyncio.run(main())
    before = (ROOT / "scenarios" / "photos" / "a2_puddle_before.jpg").read_bytes()
    assert inspect_image(before).mime == "image/jpeg"
    with new_session(engine) as session:
        photos = ticket_photos(session=session, ticket_id=1, with_data=False)
    assert [p.role for p in photos] == ["before", "after"] and photos[0].sha256 == hashlib.sha256(before).hexdigest()
    out = io.StringIO()
    assert print_tickets(database_url, statuses=None, as_json=True, out=out, tz=config.tz) == 0
    [row] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(a["kind"], a["role"], a["size"], a["sha256"]) for a in row["attachments"]] == [
        ("photo", "before", len(before), hashlib.sha256(before).hexdigest()),
        ("photo", "after", photos[1].size, photos[1].sha256)]
    assert row["attachments"][0]["at"].endswith("+08:00")
    for public_url, expected in ((None, None), ("https://mulin.example.org/", f"https://mulin.example.org/photos/{photos[0].id}")):
        configured = config.model_copy(update={"photos": config.photos.model_copy(update={"public_url": public_url})})
        out = io.StringIO()
        assert export_open311(config=configured, database_url=database_url, since=None, out_path=None, out=out) == 0
        assert json.loads(out.getvalue())[0]["media_url"] == expected


def test_pictures_that_joined_no_ticket_lose_their_bytes_after_an_hour(make, engine, stored_tickets):
    chat, evidence = jpeg(20), jpeg(21)

    async def main():
        async with make() as c:
            await c.photo("wxid_li", "cat.jpg", chat, room=ROOM)  # group chat, no complaint
            await c.photo("wxid_zhang", "puddle.jpg", evidence, room=ROOM)
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            await c.photo("wxid_li", "cat-again.jpg", evidence, room=ROOM)  # the evidence, forwarded as chat
            await c.wait(timedelta(minutes=61))
            await c.app.tick()
    asyncio.run(main())
    states = [(p.name, p.state, p.ticket_id) for p in rows(engine, Attachment)]
    assert states == [("cat.jpg", AttachmentState.EXPIRED, None), ("puddle.jpg", AttachmentState.STORED, 1),
                      ("cat-again.jpg", AttachmentState.EXPIRED, None)]
    assert [b.sha256 for b in rows(engine, AttachmentBlob)] == [hashlib.sha256(evidence).hexdigest()]


def test_scenario_image_steps_are_checked(tmp_path):
    from bot.sim.scenario import ScenarioError, load_scenario

    head = ('start: "2026-11-23T08:57:00+08:00"\ncontacts: [{id: a, name: A}]\n'
            'rooms: [{id: r, topic: T, members: [a]}]\nsteps:\n')
    (tmp_path / "p.jpg").write_bytes(jpeg(30))
    for step, error in (("{room: r, from: a, image: missing.jpg}", "not found"),
                        ("{room: r, from: a, kind: image}", "`text` or `image`"),
                        ("{dm: a}", "a dm step needs `text` or `image`")):
        (tmp_path / "s.yaml").write_text(head + f"  - {step}\n", encoding="utf-8")
        try:
            load_scenario(tmp_path / "s.yaml")
        except ScenarioError as exc:
            assert error in str(exc)
        else:
            raise AssertionError(f"{step} was accepted")
    (tmp_path / "s.yaml").write_text(head + "  - {dm: a, image: p.jpg}\n", encoding="utf-8")
    [step] = load_scenario(tmp_path / "s.yaml").steps
    assert step.file == ("p.jpg", jpeg(30))


def test_a_neighbours_photo_after_joining_the_ticket_follows_under_their_name(make, engine, stored_tickets):
    photo = jpeg(40)

    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINT)
            await c.post(ROOM, "wxid_li", "A2那边积水太深了，老人过不去")
            await c.photo("wxid_li", "deep.jpg", photo, room=ROOM)
            assert "工单#1 补充照片1张（李大爷" in c.sent(to="wxid_wangfang")[-2].text
            assert files_to(c, to="wxid_wangfang") == [photo]
    asyncio.run(main())
    assert len(stored_tickets()) == 1 and rows(engine, Attachment)[0].ticket_id == 1


def test_a_residents_photos_in_export_and_erase(make, engine, stored_tickets):
    """Photos are personal data too: export lists them; erase keeps a ticket's photo (evidence) under the
    pseudonym and drops the bytes of a picture that joined no ticket."""
    from storage.privacy import erase_contact, export_contact

    evidence, chat = jpeg(40), jpeg(41)

    async def main():
        async with make() as c:
            await c.photo("wxid_zhang", "puddle.jpg", evidence, room=ROOM)
            await c.post(ROOM, "wxid_zhang", COMPLAINT, after=timedelta(minutes=1))
            await c.photo("wxid_zhang", "cat.jpg", chat, room=ROOM, after=timedelta(minutes=20))
            return c.clock.now()
    now = asyncio.run(main())
    [ticket] = stored_tickets()
    with new_session(engine) as session:
        photos = export_contact(session=session, contact_id="wxid_zhang", now=now)["photos"]
        assert [(p["ticket_id"], p["state"]) for p in photos] == [(ticket.id, "stored"), (None, "stored")]
        assert photos[1]["sha256"] == hashlib.sha256(chat).hexdigest()
        erased = erase_contact(session=session, contact_id="wxid_zhang", actor_id="operator", now=now,
                               mask=lambda text: text)
        session.commit()
    kept, dropped = rows(engine, Attachment)
    assert kept.sender_id == dropped.sender_id == erased.pseudonym
    assert (kept.state, dropped.state) == (AttachmentState.STORED, AttachmentState.EXPIRED)
    assert [b.sha256 for b in rows(engine, AttachmentBlob)] == [hashlib.sha256(evidence).hexdigest()]
    with new_session(engine) as session:
        assert export_contact(session=session, contact_id="wxid_zhang", now=now)["photos"] == []
        [shown] = ticket_photos(session=session, ticket_id=ticket.id)
    assert shown.data == evidence
