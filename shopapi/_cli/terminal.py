"""Text that came from elsewhere (the server, the input file), made safe to print.

A server's ``Message`` or ``ModelState`` is printed in the command line's failure lines.
Printed raw, an ESC sequence could erase the line and a CR/LF could forge one
(``shopapi: all 1 items saved``), so every character that moves the cursor, rings the
bell, starts a terminal sequence or reorders text is shown as a Python-style escape
instead. Pure: no I/O.
"""

from __future__ import annotations

__all__ = ["printable"]


def _escape(code: int) -> str:
    if code < 0x100:
        return {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code, f"\\x{code:02x}")
    return f"\\u{code:04x}"


#: C0 controls, DEL, C1 controls (CSI is U+009B), the Unicode line and paragraph
#: separators, and the bidirectional controls that reorder what a terminal shows.
_UNSAFE = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_TABLE = {code: _escape(code) for code in _UNSAFE}


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\r``, ``\\u2028``),
    so that it stays on its own line and cannot drive the terminal."""
    return text.translate(_TABLE)
