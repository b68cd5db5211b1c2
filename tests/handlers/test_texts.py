import pytest

from handlers.texts import mask, place
from storage.models import Ticket


@pytest.mark.parametrize("raw, masked", [
    ("我电话13812345678", "我电话138****5678"),
    ("身份证370802199001011234", "身份证370802********1234"),
    ("身份证37080219900101123X号", "身份证370802********123X号"),
    ("座机0537-2345678", "座机0537-****678"),
    ("3号楼2单元301", "3号楼2单元301"),
    ("工单#12345", "工单#12345"),
    ("电话+8613812345678", "电话+86138****5678"),
    ("电话8613900001111", "电话86139****1111"),
    ("电话138 1234 5678", "电话138 **** 5678"),
    ("电话138-1234-5678", "电话138-****-5678"),
    ("电话１３８１２３４５６７８", "电话138****5678"),
    ("老身份证110101900307123", "老身份证110101******123"),
    ("3号楼 1234 户", "3号楼 1234 户"),
    ("卡号6222021234567890123", "卡号6222********0123"),
    ("卡号6222 0212 3456 7890", "卡号6222 0212 3456 7890"),  # grouped by fours: no run of 16 digits to see
    ("电表户号3701234567", "电表户号3701234567"),
])
def test_mask_hides_phone_and_id_numbers_only(raw, masked):
    assert mask(raw) == masked


@pytest.mark.parametrize("building, unit, room, raw, expected", [
    ("3号楼", "2", "301", None, "3号楼2单元301室"),
    ("A1", "2", None, None, "A1 2单元"),
    (None, None, None, "东门口", "东门口"),
    (None, None, None, None, "未注明"),
])
def test_place_reads_naturally(building, unit, room, raw, expected):
    ticket = Ticket(category="x", category_name="x", text="x", reporter_id="r", reporter_name="r",
                    source_message_id="m", building=building, unit=unit, room_no=room, location_raw=raw)
    assert place(ticket) == expected


def test_an_excerpt_never_ends_inside_a_number_so_masking_still_sees_it():
    from handlers.texts import excerpt, mask

    text = "灯坏了" * 165 + "电话13812345678，请尽快"
    cut = excerpt(text)
    assert "省略" in cut and "1381" not in cut and "13812345678" not in mask(text)
