"""A case's photos in the console: thumbnails on the ticket page, the full picture to those who may see the
ticket (404 to anyone else, as the ticket), and Open311 media_url under the console's public address."""
from __future__ import annotations

import hashlib
import io
import re

from PIL import Image

from storage.db import new_session
from storage.models import Attachment, AttachmentBlob, AttachmentState

STREET_KEY = "street-key-0123456789abcdef"  # tests/web/conftest.py gives the street this key


def _photo(engine, console, ticket_id: int, role: str) -> tuple[int, bytes]:  # noqa: ANN001
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200) if role == "before" else (200, 120, 30)).save(out, "JPEG")
    data = out.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    now = console.clock.now()
    with new_session(engine) as session:
        session.add(AttachmentBlob(sha256=digest, mime="image/jpeg", size=len(data), width=64, height=48, data=data,
                                   created_at=now))
        row = Attachment(message_id=f"photo-{role}-{ticket_id}", sender_id="wxid_resident0", room_id="20001@chatroom",
                         sent_at=now, received_at=now, state=AttachmentState.STORED, sha256=digest, size=len(data),
                         ticket_id=ticket_id, role=role, linked_at=now)
        session.add(row)
        session.commit()
        return row.id, data


def test_photos_show_on_the_case_and_only_to_its_scope(console, engine):
    before_id, before = _photo(engine, console, 1, "before")
    after_id, after = _photo(engine, console, 1, "after")
    worker = console.logged_in("wangfang")  # grid g1: ticket 1 is theirs
    page = worker.get("/tickets/1").text
    assert re.findall(r'<img src="/photos/(\d+)"', page) == [str(before_id), str(after_id)]
    assert "整改前" in page and "整改后" in page
    full = worker.get(f"/photos/{after_id}")
    assert full.status_code == 200 and full.content == after and full.headers["content-type"] == "image/jpeg"
    assert "private" in full.headers["cache-control"]
    assert console.logged_in("chenshuji").get(f"/photos/{before_id}").status_code == 404  # 东苑's secretary
    assert worker.get("/photos/999999").status_code == 404
    anonymous = console.browser().get(f"/photos/{before_id}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert "photos" not in console.logged_in("jiedao").get("/tickets/2").text  # a case without photos has no block
    requests = console.browser().get(f"/open311/v2/requests.json?api_key={STREET_KEY}").json()
    media = {r["service_request_id"]: r.get("media_url") for r in requests}
    assert media["1"] == f"https://mulin.example.org/photos/{before_id}" and media["2"] is None
