"""CSV feeds into records no larger than a limit: whole file when it fits, else row-aligned chunks.

Each chunk is the header line followed by complete rows, every byte as in the file. A row ends at a
newline outside double quotes, so quoted fields may contain newlines.
"""

from __future__ import annotations

__all__ = ["CsvError", "chunk_csv"]


class CsvError(ValueError):
    """The feed cannot be cut into records within the size limit."""


def _rows(data: bytes) -> list[bytes]:
    rows: list[bytes] = []
    start = 0
    quoted = False
    for index, byte in enumerate(data):
        if byte == 0x22:
            quoted = not quoted
        elif byte == 0x0A and not quoted:
            rows.append(data[start : index + 1])
            start = index + 1
    if start < len(data):
        rows.append(data[start:])
    return rows


def chunk_csv(data: bytes, max_bytes: int) -> list[bytes]:
    if len(data) <= max_bytes:
        return [data]
    rows = _rows(data)
    header, body = rows[0], rows[1:]
    chunks: list[bytes] = []
    current = [header]
    size = len(header)
    for row in body:
        if len(header) + len(row) > max_bytes:
            raise CsvError(f"a single row is larger than {max_bytes} bytes")
        if size + len(row) > max_bytes:
            chunks.append(b"".join(current))
            current, size = [header], len(header)
        current.append(row)
        size += len(row)
    if len(current) > 1:
        chunks.append(b"".join(current))
    return chunks
