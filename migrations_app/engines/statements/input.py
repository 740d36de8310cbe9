"""Bad bytes are refused before anything parses them: invalid UTF-8, NUL, over-size scripts.

PostgreSQL's parser reads a C string, so a NUL would silently cut the script short; a byte
sequence that is not UTF-8 cannot be the text a reviewer saw. Each refusal names the position.
"""

from __future__ import annotations

from migrations_app.engines.statements.model import SqlSyntaxError

DEFAULT_MAX_SCRIPT_BYTES = 2 * 1024 * 1024


class ScriptInputError(SqlSyntaxError):
    """Input that is not reviewable SQL text (the message says where and why)."""


def _line_and_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def check_no_nul(text: str) -> None:
    index = text.find("\x00")
    if index != -1:
        line, column = _line_and_column(text, index)
        raise ScriptInputError("the SQL contains a NUL byte, which PostgreSQL cannot take in a statement",
                               line, column)


def check_size(text: str, max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ScriptInputError(f"the SQL is {size:,} bytes, over the limit of {max_bytes:,} bytes "
                               "(DATAFLOW_MAX_SCRIPT_BYTES); split the change into several plans", 1, 1)


def decode_script(data: bytes, max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES) -> str:
    """UTF-8 text of ``data`` (a leading BOM dropped), or ``ScriptInputError`` naming the first bad byte."""
    if len(data) > max_bytes:
        raise ScriptInputError(f"the SQL is {len(data):,} bytes, over the limit of {max_bytes:,} bytes "
                               "(DATAFLOW_MAX_SCRIPT_BYTES); split the change into several plans", 1, 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode("utf-8")
        line, column = _line_and_column(good, len(good))
        raise ScriptInputError(f"the SQL is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset "
                               f"{exc.start}", line, column) from None
    text = text.removeprefix("\ufeff")
    check_no_nul(text)
    return text


def check_script(text: str, max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES) -> str:
    """The checks for text that arrived as a str (forms): surrogates, NUL, size."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line, column = _line_and_column(text, exc.start)
        raise ScriptInputError("the SQL is not valid UTF-8 (a lone surrogate character)", line, column) from None
    check_no_nul(text)
    check_size(text, max_bytes)
    return text
