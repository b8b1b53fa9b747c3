"""The sans-IO framing: the fast shapes are the general rules' own results."""

from __future__ import annotations

import json
import random

import pytest

import searchd
from searchd import _protocol as protocol


def test_a_search_request_is_the_general_json_request_byte_for_byte() -> None:
    rng = random.Random(7)
    alphabet = 'ab"\\/\b\f\n\r\t\x00\x1f\x7f é\u2028\u2029🐶\ud7ff\ue000'
    keys = ["", "morpheus", "🐶"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(500)
    ]
    for key in keys:
        assert protocol.search_request(key) == protocol.json_request({"action": "search", "value": key}), (
            repr(key)
        )


def test_a_header_seen_before_reads_as_the_first_time() -> None:
    reader = protocol.ReplyReader()
    reply = protocol.frame(json.dumps({"result": "x"}).encode(), "text/json", "utf-8")
    for _ in range(3):
        reader.feed(reply)
        assert reader.next() == protocol.Reply("text/json", "utf-8", b'{"result": "x"}')
    assert reader.next() is None


def test_the_header_check_is_not_skipped_for_a_new_header() -> None:
    reader = protocol.ReplyReader(max_reply_bytes=10)
    reader.feed(protocol.frame(b"{}", "text/json", "utf-8"))
    assert reader.next() is not None
    reader.feed(protocol.frame(b"x" * 11, "text/json", "utf-8"))
    with pytest.raises(searchd.ProtocolError):
        reader.next()


def test_the_known_headers_stay_bounded() -> None:
    reader = protocol.ReplyReader()
    for n in range(1000):
        reader.feed(protocol.frame(b"x" * n, "binary/x", "binary"))
        reply = reader.next()
        assert reply is not None and len(reply.content) == n
    assert len(reader._known_heads) <= protocol.ReplyReader._MAX_KNOWN_HEADS
