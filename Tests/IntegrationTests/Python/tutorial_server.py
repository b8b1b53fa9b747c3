#!/usr/bin/env python3
"""The tutorial's application server (app-server.py + libserver.py), condensed:
one request per connection, reply, close. Stdlib only.
Usage: tutorial_server.py HOST PORT  (PORT 0: prints the port it bound)."""
import io
import json
import selectors
import socket
import struct
import sys

request_search = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


class Message:
    def __init__(self, selector, sock, addr):
        self.selector, self.sock, self.addr = selector, sock, addr
        self._recv_buffer = b""
        self._send_buffer = b""
        self._jsonheader_len = None
        self.jsonheader = None
        self.request = None
        self.response_created = False

    def _set_selector_events_mask(self, mode):
        events = {"r": selectors.EVENT_READ, "w": selectors.EVENT_WRITE}[mode]
        self.selector.modify(self.sock, events, data=self)

    def _read(self):
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            pass
        else:
            if data:
                self._recv_buffer += data
            else:
                raise RuntimeError("Peer closed.")

    def _write(self):
        if self._send_buffer:
            try:
                sent = self.sock.send(self._send_buffer)
            except BlockingIOError:
                pass
            else:
                self._send_buffer = self._send_buffer[sent:]
                if sent and not self._send_buffer:
                    self.close()

    def _json_encode(self, obj, encoding):
        return json.dumps(obj, ensure_ascii=False).encode(encoding)

    def _json_decode(self, json_bytes, encoding):
        tiow = io.TextIOWrapper(io.BytesIO(json_bytes), encoding=encoding, newline="")
        obj = json.load(tiow)
        tiow.close()
        return obj

    def _create_message(self, *, content_bytes, content_type, content_encoding):
        jsonheader = {"byteorder": sys.byteorder, "content-type": content_type,
                      "content-encoding": content_encoding, "content-length": len(content_bytes)}
        jsonheader_bytes = self._json_encode(jsonheader, "utf-8")
        return struct.pack(">H", len(jsonheader_bytes)) + jsonheader_bytes + content_bytes

    def process_events(self, mask):
        if mask & selectors.EVENT_READ:
            self.read()
        if mask & selectors.EVENT_WRITE:
            self.write()

    def read(self):
        self._read()
        if self._jsonheader_len is None:
            self.process_protoheader()
        if self._jsonheader_len is not None and self.jsonheader is None:
            self.process_jsonheader()
        if self.jsonheader and self.request is None:
            self.process_request()

    def write(self):
        if self.request and not self.response_created:
            self.create_response()
        self._write()

    def close(self):
        self.selector.unregister(self.sock)
        self.sock.close()

    def process_protoheader(self):
        if len(self._recv_buffer) >= 2:
            self._jsonheader_len = struct.unpack(">H", self._recv_buffer[:2])[0]
            self._recv_buffer = self._recv_buffer[2:]

    def process_jsonheader(self):
        hdrlen = self._jsonheader_len
        if len(self._recv_buffer) >= hdrlen:
            self.jsonheader = self._json_decode(self._recv_buffer[:hdrlen], "utf-8")
            self._recv_buffer = self._recv_buffer[hdrlen:]
            for reqhdr in ("byteorder", "content-length", "content-type", "content-encoding"):
                if reqhdr not in self.jsonheader:
                    raise ValueError(f'Missing required header "{reqhdr}".')

    def process_request(self):
        content_len = self.jsonheader["content-length"]
        if not len(self._recv_buffer) >= content_len:
            return
        data = self._recv_buffer[:content_len]
        self._recv_buffer = self._recv_buffer[content_len:]
        if self.jsonheader["content-type"] == "text/json":
            self.request = self._json_decode(data, self.jsonheader["content-encoding"])
        else:
            self.request = data
        self._set_selector_events_mask("w")

    def create_response(self):
        if self.jsonheader["content-type"] == "text/json":
            action = self.request.get("action")
            if action == "search":
                query = self.request.get("value")
                answer = request_search.get(query) or f'No match for "{query}".'
                content = {"result": answer}
            else:
                content = {"result": f'Error: invalid action "{action}".'}
            response = {"content_bytes": self._json_encode(content, "utf-8"),
                        "content_type": "text/json", "content_encoding": "utf-8"}
        else:
            response = {"content_bytes": b"First 10 bytes of request: " + self.request[:10],
                        "content_type": "binary/custom-server-binary-type", "content_encoding": "binary"}
        self._send_buffer += self._create_message(**response)
        self.response_created = True


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen()
    print("listening on", lsock.getsockname(), flush=True)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, data=None)
    try:
        while True:
            for key, mask in sel.select(timeout=None):
                if key.data is None:
                    conn, addr = key.fileobj.accept()
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, data=Message(sel, conn, addr))
                else:
                    message = key.data
                    try:
                        message.process_events(mask)
                    except Exception:
                        message.close()
    except KeyboardInterrupt:
        pass
    finally:
        sel.close()


if __name__ == "__main__":
    main()
