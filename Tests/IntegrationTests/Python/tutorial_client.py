#!/usr/bin/env python3
"""The tutorial's application client (app-client.py + libclient.py), condensed:
selectors, a Message class reading protoheader, JSON header and content in turn.
Stdlib only. Usage: tutorial_client.py HOST PORT ACTION VALUE"""
import io
import json
import selectors
import socket
import struct
import sys


class Message:
    def __init__(self, selector, sock, addr, request):
        self.selector, self.sock, self.addr, self.request = selector, sock, addr, request
        self._recv_buffer = b""
        self._send_buffer = b""
        self._request_queued = False
        self._jsonheader_len = None
        self.jsonheader = None
        self.response = None

    def _set_selector_events_mask(self, mode):
        events = {"r": selectors.EVENT_READ, "w": selectors.EVENT_WRITE,
                  "rw": selectors.EVENT_READ | selectors.EVENT_WRITE}[mode]
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
            print("sending", repr(self._send_buffer), "to", self.addr)
            try:
                sent = self.sock.send(self._send_buffer)
            except BlockingIOError:
                pass
            else:
                self._send_buffer = self._send_buffer[sent:]

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
        message_hdr = struct.pack(">H", len(jsonheader_bytes))
        return message_hdr + jsonheader_bytes + content_bytes

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
        if self.jsonheader and self.response is None:
            self.process_response()

    def write(self):
        if not self._request_queued:
            self.queue_request()
        self._write()
        if self._request_queued and not self._send_buffer:
            self._set_selector_events_mask("r")

    def close(self):
        print("closing connection to", self.addr)
        self.selector.unregister(self.sock)
        self.sock.close()

    def queue_request(self):
        content, content_type, content_encoding = (
            self.request["content"], self.request["type"], self.request["encoding"])
        if content_type == "text/json":
            req = {"content_bytes": self._json_encode(content, content_encoding),
                   "content_type": content_type, "content_encoding": content_encoding}
        else:
            req = {"content_bytes": content, "content_type": content_type,
                   "content_encoding": content_encoding}
        self._send_buffer += self._create_message(**req)
        self._request_queued = True

    def process_protoheader(self):
        hdrlen = 2
        if len(self._recv_buffer) >= hdrlen:
            self._jsonheader_len = struct.unpack(">H", self._recv_buffer[:hdrlen])[0]
            self._recv_buffer = self._recv_buffer[hdrlen:]

    def process_jsonheader(self):
        hdrlen = self._jsonheader_len
        if len(self._recv_buffer) >= hdrlen:
            self.jsonheader = self._json_decode(self._recv_buffer[:hdrlen], "utf-8")
            self._recv_buffer = self._recv_buffer[hdrlen:]
            for reqhdr in ("byteorder", "content-length", "content-type", "content-encoding"):
                if reqhdr not in self.jsonheader:
                    raise ValueError(f'Missing required header "{reqhdr}".')

    def process_response(self):
        content_len = self.jsonheader["content-length"]
        if not len(self._recv_buffer) >= content_len:
            return
        data = self._recv_buffer[:content_len]
        self._recv_buffer = self._recv_buffer[content_len:]
        if self.jsonheader["content-type"] == "text/json":
            self.response = self._json_decode(data, self.jsonheader["content-encoding"])
            print("received response", repr(self.response), "from", self.addr)
            print(f"got result: {self.response.get('result')}")
        else:
            self.response = data
            print(f'received {self.jsonheader["content-type"]} response from', self.addr)
            print(f"got response: {repr(self.response)}")
        self.close()


def create_request(action, value):
    if action == "search":
        return dict(type="text/json", encoding="utf-8", content=dict(action=action, value=value))
    return dict(type="binary/custom-client-binary-type", encoding="binary",
                content=bytes(action + value, encoding="utf-8"))


def main():
    host, port, action, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sel = selectors.DefaultSelector()
    addr = (host, port)
    print("starting connection to", addr)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex(addr)
    events = selectors.EVENT_READ | selectors.EVENT_WRITE
    message = Message(sel, sock, addr, create_request(action, value))
    sel.register(sock, events, data=message)
    try:
        while True:
            events = sel.select(timeout=5)
            if not events:
                print("main: error: timed out")
                sys.exit(2)
            for key, mask in events:
                message = key.data
                try:
                    message.process_events(mask)
                except Exception as e:
                    print(f"main: error: exception for {message.addr}: {e!r}")
                    message.close()
                    sys.exit(1)
            if not sel.get_map():
                break
    finally:
        sel.close()


if __name__ == "__main__":
    main()
