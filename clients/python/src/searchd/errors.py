"""What can go wrong, as types: every error this package raises is a `SearchdError`."""

from __future__ import annotations

import builtins


class SearchdError(Exception):
    """The base of every error the client raises."""


class ConnectionError(SearchdError, builtins.ConnectionError):
    """The server could not be reached, or the connection failed before a whole reply."""


class TimeoutError(SearchdError, builtins.TimeoutError):
    """No connection or no whole reply within the timeout."""


class ProtocolError(SearchdError):
    """The peer's bytes are not a searchd reply (not searchd, or a reply cut or bent)."""


class ServerError(SearchdError):
    """The server answered with an error reply: `code` as the protocol names it, `message`
    the server's own words (its `result` line)."""

    code: str = ""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.code})" if self.code else self.message


class InvalidAction(ServerError):
    """The server does not know the action (the tutorial's server and `stats`, say)."""

    code = "invalid-action"


class BadRequest(ServerError):
    code = "bad-request"


class BadJSON(ServerError):
    code = "bad-json"


class UnsupportedEncoding(ServerError):
    code = "unsupported-encoding"


class BadHeader(ServerError):
    code = "bad-header"


class NotPermitted(ServerError):
    """`stats` from a peer the server does not trust."""

    code = "not-permitted"


class RequestTooLarge(ServerError):
    """The request is over one of the server's limits (header or content)."""

    code = "content-too-large"


class ReplyTooLarge(ServerError):
    code = "reply-too-large"


class TooManyConnections(ServerError):
    code = "too-many-connections"


class BadLimit(ServerError):
    """A suggest's `limit` is not an integer from 1 to 100."""

    code = "bad-limit"


class BadTypos(ServerError):
    """A suggest's `typos` is not an integer from 0 to 2."""

    code = "bad-typos"


class NoSuggestions(ServerError):
    """The server's index was built without what suggestions read (rebuild it)."""

    code = "no-suggestions"


class ServerTimeout(ServerError):
    """The server timed the request out (it did not arrive whole in time)."""

    code = "timeout"


_BY_CODE: dict[str, type[ServerError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        BadJSON,
        UnsupportedEncoding,
        BadHeader,
        NotPermitted,
        RequestTooLarge,
        ReplyTooLarge,
        TooManyConnections,
        ServerTimeout,
        BadLimit,
        BadTypos,
        NoSuggestions,
    )
}
_BY_CODE["header-too-large"] = RequestTooLarge


def server_error(message: str, code: str) -> ServerError:
    """The typed error for an error reply's code (`ServerError` itself for a code this
    client does not know)."""
    return _BY_CODE.get(code, ServerError)(message, code)
