"""jieba's prefix dictionary (word -> frequency, 0 for a mere prefix of a word), read one first character at a time.

jieba loads its whole dictionary (~500k entries, a 9 MB marshal) before it cuts a word: about half a second at every
start. A segmentation only ever asks about fragments that start at some character of the text, so here the entries
are stored grouped by their first character (built once from jieba's dictionary into the cache directory) and a
group is read the first time a text asks about its character. The words a tokenizer adds (community and rule words,
buildings) are computed once by jieba itself and kept next to it, keyed by the words and the dictionary.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import threading
from pathlib import Path

FORMAT = 1  # of the grouped file; a new format gets a new file name
KEEP_WORD_FILES = 8  # added-word files of other word lists (other configs' buildings) kept in the cache directory
_HEADER = 8  # bytes: the length of the marshalled (total, {first character: (start, end)}) that follows


class _GroupedFile:
    """One grouped dictionary file, opened once per process: its total and where each character's group lies."""

    def __init__(self, path: Path):
        self.fd = os.open(path, os.O_RDONLY)
        size = int.from_bytes(os.pread(self.fd, _HEADER, 0), "little")
        self.total, self.spans = marshal.loads(os.pread(self.fd, size, _HEADER))
        self.base = _HEADER + size

    def group(self, ch: str) -> dict[str, int]:
        span = self.spans.get(ch)
        if span is None:
            return {}
        start, end = span
        return marshal.loads(os.pread(self.fd, end - start, self.base + start))


class _InMemory:
    """The same groups, built in memory, where the cache directory cannot be written (a slow start, as jieba's)."""

    def __init__(self, freq: dict[str, int], total: int):
        self.total = total
        self.groups = _grouped(freq)

    def group(self, ch: str) -> dict[str, int]:
        return dict(self.groups.get(ch, ()))


class PrefixDict:
    """The dict operations jieba.Tokenizer uses on its FREQ (get, in, [], []=), over the grouped file plus the words
    added on top. Setting a word records it in `added`, so what jieba's add_word did can be stored and replayed."""

    def __init__(self, grouped: _GroupedFile | _InMemory, added: dict[str, int] | None = None):
        self._file = grouped
        self._groups: dict[str, dict[str, int]] = {}
        self._added_by_char: dict[str, dict[str, int]] = {}
        self.added: dict[str, int] = {}
        for word, freq in (added or {}).items():
            self[word] = freq

    @property
    def total(self) -> int:
        """The dictionary's total frequency, before any word was added."""
        return self._file.total

    def _group(self, ch: str) -> dict[str, int]:
        group = self._groups.get(ch)
        if group is None:
            group = self._groups[ch] = self._file.group(ch)
            group.update(self._added_by_char.get(ch, ()))
        return group

    def get(self, word: str, default=None):
        return self._group(word[:1]).get(word, default)

    def __contains__(self, word: str) -> bool:
        return word in self._group(word[:1])

    def __getitem__(self, word: str) -> int:
        return self._group(word[:1])[word]

    def __setitem__(self, word: str, freq: int) -> None:
        self.added[word] = freq
        self._added_by_char.setdefault(word[:1], {})[word] = freq
        if word[:1] in self._groups:
            self._groups[word[:1]][word] = freq


_open: dict[Path, _GroupedFile | _InMemory] = {}
_lock = threading.Lock()


def jieba_dictionary() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def grouped_file(directory: Path) -> tuple[Path, _GroupedFile | _InMemory]:
    """The grouped copy of jieba's dictionary in `directory` (its path, and it opened), written first if this jieba's
    is not there yet. Named by jieba's version and its dictionary file's size and time, as jieba's own cache is tied
    to its file."""
    import jieba

    source = jieba_dictionary()
    stat = source.stat()
    key = hashlib.sha1(f"{FORMAT} {jieba.__version__} {source} {stat.st_size} {stat.st_mtime_ns}".encode())
    path = directory / f"jieba-grouped-{key.hexdigest()[:16]}.bin"
    with _lock:
        if path not in _open:
            try:
                _open[path] = _GroupedFile(path)
            except (OSError, EOFError, ValueError, TypeError):  # first start with this jieba, or an unreadable copy
                with open(source, "rb") as f:
                    freq, total = jieba.Tokenizer.gen_pfdict(f)
                try:
                    _write_grouped(path, freq, total)
                    _open[path] = _GroupedFile(path)
                except OSError:
                    _open[path] = _InMemory(freq, total)
        return path, _open[path]


def _grouped(freq: dict[str, int]) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for word, n in freq.items():
        groups.setdefault(word[:1], {})[word] = n
    return groups


def _write_grouped(path: Path, freq: dict[str, int], total: int) -> None:
    blobs, spans, offset = [], {}, 0
    for ch, group in _grouped(freq).items():
        blob = marshal.dumps(group)
        spans[ch] = (offset, offset + len(blob))
        offset += len(blob)
        blobs.append(blob)
    header = marshal.dumps((total, spans))
    _replace(path, len(header).to_bytes(_HEADER, "little") + header + b"".join(blobs))
    for old in path.parent.glob("jieba-grouped-*.bin"):
        if old != path:
            old.unlink(missing_ok=True)  # the copy of a jieba since upgraded


def added_words_file(directory: Path, grouped: Path | str, words: list[tuple[str, int | None]], floor: int) -> Path:
    """Where the frequencies jieba gave `words` (added in this order over this dictionary) are kept."""
    key = hashlib.sha1(f"{FORMAT} {grouped} {floor} {words!r}".encode())
    return directory / f"jieba-words-{key.hexdigest()[:16]}.marshal"


def read_added(path: Path) -> tuple[int, dict[str, int]] | None:
    try:
        total, added = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return total, added


def write_added(path: Path, total: int, added: dict[str, int]) -> None:
    """Kept next to the files of the last few other word lists (other configs' buildings); older ones go."""
    try:
        _replace(path, marshal.dumps((total, added)))
        others = sorted((p for p in path.parent.glob("jieba-words-*.marshal") if p != path),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEEP_WORD_FILES - 1:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable cache: the next start computes the words again


def _replace(path: Path, data: bytes) -> None:
    """Atomically: a concurrent start reads the old state or the whole new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
