"""From byte offsets in UTF-8 (what RE2 reports when it scans bytes) back to character offsets."""

from __future__ import annotations

_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes: not the start of a char


def char_offsets(data: bytes, offsets: set[int]) -> dict[int, int]:
    """Character offsets of UTF-8 byte offsets, in one pass over the text."""
    result: dict[int, int] = {}
    last_byte = last_char = 0
    for offset in sorted(offsets):
        last_char += len(data[last_byte:offset].translate(None, _CONTINUATION))
        last_byte = offset
        result[offset] = last_char
    return result
