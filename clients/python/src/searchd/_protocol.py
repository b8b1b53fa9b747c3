"""The tutorial's framing without I/O: requests made as bytes, replies read from bytes as
they arrive, and what a reply means for each call. The blocking and the asyncio client
both do their I/O around this, so each rule is written once."""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from .errors import InvalidAction, ProtocolError, server_error

JSON_TYPE = "text/json"
BINARY_TYPE = "binary/custom-client-binary-type"
REQUIRED_KEYS = ("byteorder", "content-type", "content-encoding", "content-length")
# The largest reply content the client takes by default: above any reply searchd sends
# with its default max-output-bytes, far below what would exhaust a client's memory.
DEFAULT_MAX_REPLY_BYTES = 16 << 20

# A JSON request's header, whose only varying part is the content's length.
_JSON_HEADER = (
    f'{{"byteorder": "{sys.byteorder}", "content-type": "text/json", "content-encoding": "utf-8", '
    '"content-length": '
).encode()


def frame(content: bytes, content_type: str, content_encoding: str) -> bytes:
    """A whole message: the 2-byte header length, the JSON header, the content."""
    header = json.dumps(
        {
            "byteorder": sys.byteorder,
            "content-type": content_type,
            "content-encoding": content_encoding,
            "content-length": len(content),
        },
        ensure_ascii=False,
    ).encode()
    if len(header) > 0xFFFF:
        raise ValueError("a header over 65535 bytes cannot be framed")
    return len(header).to_bytes(2, "big") + header + content


def json_request(obj: dict[str, Any]) -> bytes:
    """A JSON request as the tutorial's client frames it (UTF-8, Python's separators)."""
    content = json.dumps(obj, ensure_ascii=False).encode()
    header = _JSON_HEADER + b"%d}" % len(content)
    return len(header).to_bytes(2, "big") + header + content


def search_request(key: str) -> bytes:
    """json_request({"action": "search", "value": key}), byte for byte, with the one string
    encoded by json's own C encoder instead of the whole object walked (a third of the
    cost of a pipelined search in this client)."""
    content = b'{"action": "search", "value": ' + encode_basestring(key).encode() + b"}"
    header = _JSON_HEADER + b"%d}" % len(content)
    return len(header).to_bytes(2, "big") + header + content


def suggest_request(text: str, limit: int | None = None, typos: int | None = None) -> bytes:
    obj: dict[str, Any] = {"action": "suggest", "value": text}
    if limit is not None:
        obj["limit"] = limit
    if typos is not None:
        obj["typos"] = typos
    return json_request(obj)


def binary_request(data: bytes) -> bytes:
    return frame(bytes(data), BINARY_TYPE, "binary")


# A JSON object's first byte, or JSON's whitespace before it.
_HEADER_STARTS = frozenset(b"{ \t\r\n")

STATS_REQUEST = json_request({"action": "stats"})
# A binary request both searchd and the tutorial's server answer (empty content would get
# no reply from the tutorial's).
PING_REQUEST = binary_request(b"ping")


class Reply(NamedTuple):
    content_type: str
    content_encoding: str
    content: bytes

    def json(self) -> dict[str, Any]:
        """The content as a JSON object, decoded by its declared encoding."""
        if self.content_type != JSON_TYPE:
            raise ProtocolError(f"expected a text/json reply, got {self.content_type!r}")
        try:
            obj = json.loads(self.content.decode(self.content_encoding))
        except (LookupError, UnicodeDecodeError, ValueError) as e:
            raise ProtocolError(
                f"the reply's content is not JSON in {self.content_encoding!r}: {e}"
            ) from None
        # A string, or a suggest's list.
        if not isinstance(obj, dict) or not isinstance(obj.get("result"), (str, list)):
            raise ProtocolError("the reply is not an object with a result")
        error = obj.get("error")
        if error is not None:
            raise server_error(obj["result"], str(error))
        return obj


class ReplyReader:
    """Replies read from a byte stream as it arrives: `feed` the bytes, then take each whole
    reply with `next`. Anything that is not a reply of this protocol is a `ProtocolError`."""

    # Headers already checked, by their bytes: a server writes the same header for every
    # reply of the same type and length, so most replies skip the parse (a cache of
    # `_check_head`'s result, bounded).
    _MAX_KNOWN_HEADS = 256

    def __init__(self, max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_reply_bytes
        self._known_heads: dict[bytes, tuple[str, str, int]] = {}
        # The header of the reply being read, once whole: (its end, content type, encoding, length).
        self._head: tuple[int, str, str, int] | None = None

    @property
    def has_partial(self) -> bool:
        """Some bytes of a reply have arrived, not all of them."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next(self) -> Reply | None:
        """The next whole reply, or None until more bytes come."""
        if self._head is None:
            self._head = self._read_head()
            if self._head is None:
                return None
        end, content_type, encoding, length = self._head
        if len(self._buffer) < end + length:
            return None
        content = bytes(self._buffer[end : end + length])
        del self._buffer[: end + length]
        self._head = None
        return Reply(content_type, encoding, content)

    def _read_head(self) -> tuple[int, str, str, int] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        n = buffer[0] << 8 | buffer[1]
        if n == 0:
            raise ProtocolError("a reply header of length 0")
        # Judged from its first byte, so another protocol's reply (an HTTP error, a banner)
        # is told apart at once, not after waiting for a length it never meant.
        if len(buffer) > 2 and buffer[2] not in _HEADER_STARTS:
            raise ProtocolError(f"not a searchd reply: it starts {bytes(buffer[:16])!r}")
        if len(buffer) < 2 + n:
            return None
        raw = bytes(buffer[2 : 2 + n])
        known = self._known_heads.get(raw)
        if known is None:
            known = self._check_head(raw)
            if len(self._known_heads) >= self._MAX_KNOWN_HEADS:
                self._known_heads.clear()
            self._known_heads[raw] = known
        return (2 + n, *known)

    def _check_head(self, raw: bytes) -> tuple[str, str, int]:
        """A header's content type, encoding and length, or the ProtocolError saying why not."""
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ProtocolError("the reply header is not JSON in UTF-8") from None
        if not isinstance(header, dict):
            raise ProtocolError("the reply header is not a JSON object")
        for key in REQUIRED_KEYS:
            if key not in header:
                raise ProtocolError(f"the reply header has no {key!r}")
        length = header["content-length"]
        content_type = header["content-type"]
        encoding = header["content-encoding"]
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise ProtocolError(f"the reply's content-length is not a non-negative integer: {length!r}")
        if not isinstance(content_type, str) or not isinstance(encoding, str):
            raise ProtocolError("the reply's content-type and content-encoding must be strings")
        if length > self._max:
            raise ProtocolError(f"a reply of {length} bytes, over this client's limit of {self._max}")
        return (content_type, encoding, length)


def search_result(reply: Reply, key: str) -> str | None:
    """A search's answer: the value, or None for the protocol's miss reply."""
    result = reply.json()["result"]
    if not isinstance(result, str):
        raise ProtocolError("a search reply without a string result")
    if result == f'No match for "{key}".':
        return None
    return result


class Suggestion(NamedTuple):
    """One key a suggest found: its value, and how many typos away from the text it is."""

    key: str
    value: str
    typos: int


class Suggestions(NamedTuple):
    """A suggest's answer, best first. `complete` is False when the server stopped at its
    visit limit (`suggest-max-visits`): these are the best it found before it."""

    items: list[Suggestion]
    complete: bool


def suggest_result(reply: Reply) -> Suggestions:
    obj = reply.json()
    result = obj["result"]
    if not isinstance(result, list):
        if result.startswith("Error: invalid action"):
            raise InvalidAction(result)
        raise ProtocolError("a suggest reply without a list of suggestions")
    items = []
    for entry in result:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("key"), str)
            and isinstance(entry.get("value"), str)
            and type(entry.get("typos")) is int
        ):
            raise ProtocolError("a suggestion without a key, value and typos")
        items.append(Suggestion(entry["key"], entry["value"], entry["typos"]))
    return Suggestions(items, obj.get("complete") is not False)


def binary_result(reply: Reply) -> bytes:
    """A binary request's answer: the reply's content (an error reply raises)."""
    if reply.content_type == JSON_TYPE:
        reply.json()
        raise ProtocolError("a text/json reply to a binary request")
    return reply.content


def stats_result(reply: Reply) -> dict[str, Any]:
    """The daemon's counters. The tutorial's server has no `stats`: `InvalidAction`."""
    obj = reply.json()
    stats = obj.get("stats")
    if not isinstance(stats, dict):
        if obj["result"].startswith("Error: invalid action"):
            raise InvalidAction(obj["result"])
        raise ProtocolError("a stats reply without stats")
    return stats


def ping_result(reply: Reply) -> bool:
    if binary_result(reply) != b"First 10 bytes of request: ping":
        raise ProtocolError("the reply to a ping is not this protocol's")
    return True
