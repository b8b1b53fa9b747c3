"""A client for searchd, the search daemon that speaks the socket tutorial's protocol.

>>> import searchd
>>> client = searchd.Client("127.0.0.1", 65432)
>>> client.search("morpheus")
'Follow the white rabbit. 🐰'
"""

from ._endpoint import DEFAULT_PORT, tls_context
from ._protocol import Suggestion, Suggestions
from .asyncio import AsyncClient
from .client import Client, ConnectionPool
from .errors import (
    BadHeader,
    BadJSON,
    BadLimit,
    BadRequest,
    BadTypos,
    ConnectionError,
    InvalidAction,
    NoSuggestions,
    NotPermitted,
    ProtocolError,
    ReplyTooLarge,
    RequestTooLarge,
    SearchdError,
    ServerError,
    ServerTimeout,
    TimeoutError,
    TooManyConnections,
    UnsupportedEncoding,
)

__all__ = [
    "DEFAULT_PORT",
    "AsyncClient",
    "BadHeader",
    "BadJSON",
    "BadLimit",
    "BadRequest",
    "BadTypos",
    "Client",
    "ConnectionError",
    "ConnectionPool",
    "InvalidAction",
    "NoSuggestions",
    "NotPermitted",
    "ProtocolError",
    "ReplyTooLarge",
    "RequestTooLarge",
    "SearchdError",
    "ServerError",
    "ServerTimeout",
    "Suggestion",
    "Suggestions",
    "TimeoutError",
    "TooManyConnections",
    "UnsupportedEncoding",
    "tls_context",
]
