"""The long connection's protobuf frame (`pbbp2.Frame`), encoded and decoded by hand.

    message Header { required string key = 1; required string value = 2; }
    message Frame {
      required uint64 SeqID = 1; required uint64 LogID = 2;
      required int32 service = 3; required int32 method = 4;
      repeated Header headers = 5;
      optional string payload_encoding = 6; optional string payload_type = 7;
      optional bytes payload = 8; optional string LogIDNew = 9;
    }

method 0 is a control frame (ping/pong), 1 a data frame (event/card). The stub speaks
the wire format itself so that it tests the SDK's decoder rather than sharing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL = 0
DATA = 1
_VARINT = 0
_BYTES = 2


@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = DATA
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""

    def encode(self) -> bytes:
        out = bytearray()
        for number, value in ((1, self.seq_id), (2, self.log_id), (3, self.service)):
            out += _key(number, _VARINT) + _varint(value)
        out += _key(4, _VARINT) + _varint(self.method)
        for key, value in self.headers.items():
            header = _bytes_field(1, key.encode()) + _bytes_field(2, value.encode())
            out += _bytes_field(5, header)
        if self.payload:
            out += _bytes_field(8, self.payload)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        frame = cls()
        for number, value in _fields(data):
            if number == 1:
                frame.seq_id = value
            elif number == 2:
                frame.log_id = value
            elif number == 3:
                frame.service = value
            elif number == 4:
                frame.method = value
            elif number == 5:
                header = dict(_fields(value))
                frame.headers[header[1].decode()] = header.get(2, b"").decode()
            elif number == 8:
                frame.payload = value
        return frame


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _key(number, _BYTES) + _varint(len(value)) + value


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
            yield number, value
        elif wire_type == _BYTES:
            length, pos = _read_varint(data, pos)
            yield number, data[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
