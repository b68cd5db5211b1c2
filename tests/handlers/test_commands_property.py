from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.commands import NEEDS_TICKET, VERBS, Command, Malformed, NoSuchTicket, parse_command

ticket_verbs = st.sampled_from(sorted(v for v, name in VERBS.items() if name in NEEDS_TICKET))
noise = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=300)
@given(noise)
def test_any_text_parses_or_is_none_never_raises(text):
    parsed = parse_command(text)
    assert parsed is None or isinstance(parsed, (Command, Malformed, NoSuchTicket))


@settings(max_examples=300)
@given(ticket_verbs, st.integers(min_value=1, max_value=10**9 - 1), st.sampled_from(["", " ", "  ", "#", " #", "\u3000"]),
       st.booleans())
def test_ticket_number_survives_spacing_hash_and_full_width(verb, number, gap, full_width):
    digits = str(number).translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)}) if full_width else str(number)
    parsed = parse_command(f"{verb}{gap}{digits} 说明")
    assert isinstance(parsed, Command) and parsed.ticket_id == number, parsed
