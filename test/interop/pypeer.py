#!/usr/bin/env python3
"""Independent Python test peer for the DSN wire protocol 0.9.0.

This is a small, self-contained node of the Distributed State Network, written
from scratch from the protocol description (docs/PROTOCOL.md, whose section
numbers the comments below use) and checked against the Python reference's
vectors (test/vectors/python-reference-0.9.0.json). The TypeScript interop tests
start it as a subprocess so that the TypeScript node can be exercised against a
second, independent implementation that uses Python's own ``json.dumps`` /
``json.loads`` -- the reference nodes verify a State's signature over their OWN
re-serialisation of the received JSON, and this peer does the same.

It behaves like the reference Python nodes (PROTOCOL.md section 7) with one
deliberate exception: an UPDATE whose node_id has no stored public key is
answered 401 instead of being stored unverified.

Usage::

    python3 pypeer.py --id NODE_ID --port PORT [--host 127.0.0.1]
        [--key AES_HEX32] [--cred DIR] [--bootstrap HOST:PORT ...]
        [--whitelist ID,ID,...] [--tick SECONDS] [--version 0.9.0]

Control channel: JSON lines. stdout carries only events and replies, one JSON
object per line; stdin takes commands ``{"id": N, "cmd": ...}``. Logs go to
stderr. Dependencies: the standard library and ``cryptography``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PROTOCOL_VERSION = "0.9.0"

MSG_HELLO = 1
MSG_PEERS = 2
MSG_UPDATE = 3
MSG_PING = 4
MSG_DATA = 5

PATH_TO_TYPE = {
    "/hello": MSG_HELLO,
    "/peers": MSG_PEERS,
    "/update": MSG_UPDATE,
    "/ping": MSG_PING,
    "/data": MSG_DATA,
}
TYPE_TO_PATH = {t: p for p, t in PATH_TO_TYPE.items()}

PING_PAYLOAD = b" "
DATA_OK = b"OK"
RECEIVE_HEX_MAX = 64 * 1024  # larger DATA is reported by size and SHA-256 only

CLIENT_TIMEOUT = 2.0  # seconds per try
CLIENT_MIN_RATE = 1_000_000  # bytes/s: longer timeout for big bodies
CLIENT_TRIES = 3
CLIENT_RETRY_DELAY = 0.5

CURVE = ec.SECP256K1()
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def log(msg: str) -> None:
    sys.stderr.write("[pypeer %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class DecodeError(ValueError):
    """A packet that does not parse (answered 406 by a server)."""


class ProtocolError(Exception):
    """An error a server answers with a given HTTP status and short reason."""

    def __init__(self, status: int, reason: str):
        super().__init__("%d %s" % (status, reason))
        self.status = status
        self.reason = reason


class RequestFailed(Exception):
    """A client request that did not produce a usable answer."""

    def __init__(self, msg: str, status: Optional[int] = None):
        super().__init__(msg)
        self.status = status


# ---------------------------------------------------------------------------
# Primitive encodings (PROTOCOL.md section 3)
# ---------------------------------------------------------------------------


def enc_u32(n: int) -> bytes:
    return struct.pack("<I", n)


def enc_f64(x: float) -> bytes:
    return struct.pack(">d", x)


def enc_bytes(b: bytes) -> bytes:
    return enc_u32(len(b)) + b


def enc_str(s: str) -> bytes:
    return enc_bytes(s.encode("utf-8"))


def enc_endpoint(address: Optional[str], port: int) -> bytes:
    return enc_str(address or "") + enc_u32(port)


class Reader:
    """Reads primitives from a buffer, checking every length."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("field runs past the end of the packet")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return struct.unpack("<I", self._take(4))[0]

    def f64(self) -> float:
        return struct.unpack(">d", self._take(8))[0]

    def bytes_(self) -> bytes:
        return self._take(self.u32())

    def str_(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError("invalid UTF-8: %s" % e) from None

    def endpoint(self) -> Tuple[Optional[str], int]:
        address = self.str_()
        port = self.u32()
        return (address or None), port

    def end(self) -> None:
        if self.pos != len(self.data):
            raise DecodeError("trailing bytes after the packet")


# ---------------------------------------------------------------------------
# Packets (PROTOCOL.md section 4)
# ---------------------------------------------------------------------------


@dataclass
class Hello:
    version: str
    node_id: str
    address: Optional[str]
    port: int
    public_key: bytes
    sig: bytes = b""
    detected_address: str = ""


def _hello_fields(h: Hello, with_sig: bool) -> bytes:
    out = (
        enc_str(h.version)
        + enc_str(h.node_id)
        + enc_bytes((h.address or "").encode("utf-8"))
        + enc_u32(h.port)
        + enc_bytes(h.public_key)
    )
    if with_sig:
        out += enc_bytes(h.sig)
    return out + enc_str(h.detected_address)


def hello_signed_bytes(h: Hello) -> bytes:
    """What a Hello signature covers: everything but sig (a responder signs
    while detected_address is still empty)."""
    return _hello_fields(h, with_sig=False)


def encode_hello(h: Hello) -> bytes:
    return _hello_fields(h, with_sig=True)


def decode_hello(data: bytes) -> Hello:
    r = Reader(data)
    version = r.str_()
    node_id = r.str_()
    try:
        address = r.bytes_().decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("invalid UTF-8 in address") from None
    port = r.u32()
    public_key = r.bytes_()
    sig = r.bytes_()
    detected = r.str_()
    r.end()
    return Hello(version, node_id, address or None, port, public_key, sig, detected)


@dataclass
class Peers:
    node_id: str
    sig: bytes = b""
    # (peer_id, address or None, port)
    connections: List[Tuple[str, Optional[str], int]] = field(default_factory=list)


def _peers_connections(p: Peers) -> bytes:
    out = enc_u32(len(p.connections))
    for peer_id, address, port in p.connections:
        out += enc_str(peer_id) + enc_bytes(enc_endpoint(address, port))
    return out


def peers_signed_bytes(p: Peers) -> bytes:
    return enc_str(p.node_id) + _peers_connections(p)


def encode_peers(p: Peers) -> bytes:
    return enc_str(p.node_id) + enc_bytes(p.sig) + _peers_connections(p)


def decode_peers(data: bytes) -> Peers:
    r = Reader(data)
    node_id = r.str_()
    sig = r.bytes_()
    count = r.u32()
    conns = []
    for _ in range(count):
        peer_id = r.str_()
        inner = Reader(r.bytes_())
        address, port = inner.endpoint()
        inner.end()
        conns.append((peer_id, address, port))
    r.end()
    return Peers(node_id, sig, conns)


@dataclass
class State:
    node_id: str
    last_update: float
    sig: bytes
    state_json: str


def state_signed_bytes(node_id: str, last_update: float, state_json: str) -> bytes:
    return enc_str(node_id) + enc_f64(last_update) + enc_str(state_json)


def encode_state(s: State) -> bytes:
    return enc_str(s.node_id) + enc_f64(s.last_update) + enc_bytes(s.sig) + enc_str(s.state_json)


def decode_state(data: bytes) -> State:
    r = Reader(data)
    node_id = r.str_()
    last_update = r.f64()
    sig = r.bytes_()
    state_json = r.str_()
    r.end()
    if not node_id:
        raise DecodeError("empty node_id in State")
    return State(node_id, last_update, sig, state_json)


@dataclass
class Data:
    node_id: str
    sig: bytes
    data: bytes


def data_signed_bytes(node_id: str, data: bytes) -> bytes:
    return enc_str(node_id) + enc_bytes(data)


def encode_data(d: Data) -> bytes:
    return enc_str(d.node_id) + enc_bytes(d.sig) + enc_bytes(d.data)


def decode_data(data: bytes) -> Data:
    r = Reader(data)
    node_id = r.str_()
    sig = r.bytes_()
    payload = r.bytes_()
    r.end()
    if not node_id:
        raise DecodeError("empty node_id in Data")
    return Data(node_id, sig, payload)


# ---------------------------------------------------------------------------
# State JSON (PROTOCOL.md section 6): Python's own json, default options
# ---------------------------------------------------------------------------


def state_to_json(state: dict) -> str:
    return json.dumps(state)


def json_to_state(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise DecodeError("state_json is not JSON: %s" % e) from None
    if not isinstance(value, dict):
        raise DecodeError("state_json is not an object")
    return value


def state_hash(state: dict) -> bytes:
    return hashlib.sha256(state_to_json(state).encode("utf-8")).digest()


# ---------------------------------------------------------------------------
# Signatures (PROTOCOL.md section 5)
# ---------------------------------------------------------------------------


def signature_digest(message: bytes) -> bytes:
    """SHA-1(SHA-256(message)), the 20-byte digest that is signed."""
    return hashlib.sha1(hashlib.sha256(message).digest()).digest()


def public_key_from_raw(raw: bytes) -> ec.EllipticCurvePublicKey:
    if len(raw) != 64:
        raise ValueError("public key must be 64 bytes")
    x = int.from_bytes(raw[:32], "big")
    y = int.from_bytes(raw[32:], "big")
    return ec.EllipticCurvePublicNumbers(x, y, CURVE).public_key()


def public_key_is_valid(raw: bytes) -> bool:
    try:
        public_key_from_raw(raw)
        return True
    except ValueError:
        return False


def verify_signature(public_raw: bytes, message: bytes, sig: bytes) -> bool:
    """Verify a raw r||s signature; high-S values are accepted."""
    if len(sig) != 64:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (0 < r < SECP256K1_ORDER and 0 < s < SECP256K1_ORDER):
        return False
    try:
        key = public_key_from_raw(public_raw)
        key.verify(
            encode_dss_signature(r, s),
            signature_digest(message),
            ec.ECDSA(Prehashed(hashes.SHA1())),
        )
        return True
    except (InvalidSignature, ValueError):
        return False


class KeyPair:
    def __init__(self, private_raw: bytes):
        if len(private_raw) != 32:
            raise ValueError("private key must be 32 bytes")
        self.private_raw = private_raw
        self._key = ec.derive_private_key(int.from_bytes(private_raw, "big"), CURVE)
        numbers = self._key.public_key().public_numbers()
        self.public_raw = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")

    @classmethod
    def generate(cls) -> "KeyPair":
        while True:
            raw = os.urandom(32)
            if 0 < int.from_bytes(raw, "big") < SECP256K1_ORDER:
                return cls(raw)

    def sign(self, message: bytes) -> bytes:
        der = self._key.sign(signature_digest(message), ec.ECDSA(Prehashed(hashes.SHA1())))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# ---------------------------------------------------------------------------
# Envelope (PROTOCOL.md section 2)
# ---------------------------------------------------------------------------


def aes_encrypt(key: bytes, plaintext: bytes, iv: Optional[bytes] = None) -> bytes:
    if iv is None:
        iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize()


def aes_decrypt(key: bytes, body: bytes) -> bytes:
    """Raises ValueError if the body cannot be decrypted."""
    if len(body) < 32 or len(body) % 16 != 0:
        raise ValueError("bad ciphertext length")
    dec = Cipher(algorithms.AES(key), modes.CBC(body[:16])).decryptor()
    padded = dec.update(body[16:]) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def build_body(msg_type: int, payload: bytes, key: Optional[bytes], iv: Optional[bytes] = None) -> bytes:
    plain = bytes([msg_type]) + payload
    return aes_encrypt(key, plain, iv) if key else plain


# ---------------------------------------------------------------------------
# Credentials (Python on-disk layout)
# ---------------------------------------------------------------------------


class Credentials:
    """Own key pair plus TOFU peer keys, optionally persisted in DIR/<id>/."""

    def __init__(self, node_id: str, cred_dir: Optional[str]):
        self.node_id = node_id
        self.folder = os.path.join(cred_dir, node_id) if cred_dir else None
        self.peer_keys: Dict[str, bytes] = {}
        if self.folder:
            os.makedirs(self.folder, exist_ok=True)
            key_path = os.path.join(self.folder, node_id + ".key")
            if os.path.exists(key_path):
                with open(key_path, "rb") as f:
                    self.keypair = KeyPair(f.read())
            else:
                self.keypair = KeyPair.generate()
                with open(key_path, "wb") as f:
                    f.write(self.keypair.private_raw)
                with open(os.path.join(self.folder, node_id + ".pub"), "wb") as f:
                    f.write(self.keypair.public_raw)
            for name in os.listdir(self.folder):
                if name.endswith(".pub") and name != node_id + ".pub":
                    with open(os.path.join(self.folder, name), "rb") as f:
                        self.peer_keys[name[:-4]] = f.read()
        else:
            self.keypair = KeyPair.generate()
        self.peer_keys[node_id] = self.keypair.public_raw

    def store_peer_key(self, peer_id: str, public_raw: bytes) -> None:
        self.peer_keys[peer_id] = public_raw
        if self.folder and peer_id != self.node_id and "/" not in peer_id and peer_id not in (".", ".."):
            try:
                with open(os.path.join(self.folder, peer_id + ".pub"), "wb") as f:
                    f.write(public_raw)
            except OSError as e:
                log("cannot persist key of %s: %s" % (peer_id, e))


# ---------------------------------------------------------------------------
# Control channel output
# ---------------------------------------------------------------------------

_out_lock = threading.Lock()


def emit(obj: dict) -> None:
    line = json.dumps(obj)
    with _out_lock:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------------------
# The node
# ---------------------------------------------------------------------------


@dataclass
class StoredState:
    node_id: str
    last_update: float
    sig: bytes
    data: dict  # insertion-ordered, as parsed

    def packet(self) -> State:
        return State(self.node_id, self.last_update, self.sig, state_to_json(self.data))


class Node:
    def __init__(self, node_id: str, port: int, host: str, aes_key: Optional[bytes],
                 cred_dir: Optional[str], bootstrap: List[Tuple[str, int]],
                 whitelist: Optional[List[str]], tick: float, version: str):
        self.node_id = node_id
        self.host = host
        self.port = port
        self.aes_key = aes_key
        self.bootstrap_endpoints = bootstrap
        self.whitelist = set(whitelist) if whitelist else None
        self.tick_seconds = tick
        self.version = version
        self.creds = Credentials(node_id, cred_dir)
        self.lock = threading.RLock()
        self.own_address: Optional[str] = None
        # node_id -> (address or None, port); contains the own entry
        self.address_book: Dict[str, Tuple[Optional[str], int]] = {}
        # node_id -> StoredState; contains the own State
        self.states: Dict[str, StoredState] = {}
        self.stop_event = threading.Event()
        self.server: Optional[http.server.ThreadingHTTPServer] = None

    # -- helpers -----------------------------------------------------------

    @property
    def keypair(self) -> KeyPair:
        return self.creds.keypair

    def allowed(self, node_id: str) -> bool:
        return self.whitelist is None or node_id == self.node_id or node_id in self.whitelist

    def _sign_own_state(self) -> None:
        own = self.states[self.node_id]
        own.sig = self.keypair.sign(state_signed_bytes(own.node_id, own.last_update, state_to_json(own.data)))

    def own_state_packet(self) -> State:
        with self.lock:
            return self.states[self.node_id].packet()

    def _record_peer(self, peer_id: str, address: Optional[str], port: int) -> bool:
        """Record an endpoint and a placeholder State; True if the peer is new."""
        with self.lock:
            new = peer_id not in self.address_book
            self.address_book[peer_id] = (address, port)
            if peer_id not in self.states:
                self.states[peer_id] = StoredState(peer_id, 0.0, b"", {})
        if new:
            emit({"event": "peer", "node": peer_id})
        return new

    def apply_state(self, s: State) -> bool:
        """Verify and store a peer's State; True if accepted.

        Raises ProtocolError(401) if it cannot be verified, DecodeError if the
        JSON is malformed. The signature is checked over the node's OWN
        re-serialisation of the parsed map, as the reference does.
        """
        data = json_to_state(s.state_json)
        canonical = state_to_json(data)
        with self.lock:
            key = self.creds.peer_keys.get(s.node_id)
        if key is None:
            raise ProtocolError(401, "unknown node")
        if not verify_signature(key, state_signed_bytes(s.node_id, s.last_update, canonical), s.sig):
            raise ProtocolError(401, "bad signature")
        with self.lock:
            held = self.states.get(s.node_id)
            if held is not None:
                if s.last_update < held.last_update:
                    return False
                # The same map is dropped, but for an empty one: a newcomer's
                # first `{}` replaces its placeholder and fires the callback.
                if data and state_hash(held.data) == state_hash(data):
                    return False
            self.states[s.node_id] = StoredState(s.node_id, s.last_update, s.sig, data)
        emit({"event": "update", "node": s.node_id})
        return True

    # -- server side ---------------------------------------------------------

    def handle_request(self, path: str, body: bytes, remote_ip: str) -> Tuple[int, bytes, str]:
        """Returns (status, body, content type)."""
        path = path.split("?", 1)[0]
        msg_type = PATH_TO_TYPE.get(path)
        if msg_type is None:
            return 404, b"unknown path", "text/plain; charset=utf-8"
        if not body:
            return 400, b"empty body", "text/plain; charset=utf-8"
        if self.aes_key:
            try:
                plain = aes_decrypt(self.aes_key, body)
            except ValueError:
                return 401, b"cannot decrypt", "text/plain; charset=utf-8"
        else:
            plain = body
        if not plain:
            return 400, b"empty body", "text/plain; charset=utf-8"
        if plain[0] != msg_type:
            return 400, b"type byte does not match path", "text/plain; charset=utf-8"
        handler: Callable[[bytes, str], bytes] = {
            MSG_HELLO: self.on_hello,
            MSG_PEERS: self.on_peers,
            MSG_UPDATE: self.on_update,
            MSG_PING: self.on_ping,
            MSG_DATA: self.on_data,
        }[msg_type]
        try:
            payload = handler(plain[1:], remote_ip)
        except ProtocolError as e:
            return e.status, e.reason.encode("utf-8"), "text/plain; charset=utf-8"
        except DecodeError as e:
            return 406, ("malformed packet: %s" % e).encode("utf-8"), "text/plain; charset=utf-8"
        except Exception as e:  # noqa: BLE001 - any other failure is a 500
            log("error handling %s: %r" % (path, e))
            return 500, b"internal error", "text/plain; charset=utf-8"
        return 200, build_body(msg_type, payload, self.aes_key), "application/octet-stream"

    def on_hello(self, payload: bytes, remote_ip: str) -> bytes:
        h = decode_hello(payload)
        if not h.node_id:
            raise DecodeError("empty node_id in Hello")
        if not self.allowed(h.node_id):
            raise ProtocolError(401, "not whitelisted")
        if h.version != self.version:
            raise ProtocolError(505, "protocol version mismatch")
        if not public_key_is_valid(h.public_key):
            raise DecodeError("invalid public key")
        # The reference does not check Hello signatures; neither do we.
        with self.lock:
            known = self.creds.peer_keys.get(h.node_id)
            if known is None:
                self.creds.store_peer_key(h.node_id, h.public_key)
            elif known != h.public_key:
                raise ProtocolError(401, "public key changed")
        if h.node_id != self.node_id:
            self._record_peer(h.node_id, remote_ip, h.port)
        with self.lock:
            address = self.own_address
        resp = Hello(self.version, self.node_id, address, self.port, self.keypair.public_raw)
        resp.sig = self.keypair.sign(hello_signed_bytes(resp))  # signed before detected_address
        resp.detected_address = remote_ip
        return encode_hello(resp)

    def on_peers(self, payload: bytes, remote_ip: str) -> bytes:
        p = decode_peers(payload)
        with self.lock:
            if not self.allowed(p.node_id) or p.node_id not in self.address_book:
                raise ProtocolError(401, "unknown sender")
            key = self.creds.peer_keys.get(p.node_id)
        if key is None or not verify_signature(key, peers_signed_bytes(p), p.sig):
            raise ProtocolError(406, "bad signature")
        with self.lock:
            conns = [(pid, ep[0], ep[1]) for pid, ep in self.address_book.items() if pid != self.node_id]
        resp = Peers(self.node_id, b"", conns)
        resp.sig = self.keypair.sign(peers_signed_bytes(resp))
        return encode_peers(resp)

    def on_update(self, payload: bytes, remote_ip: str) -> bytes:
        s = decode_state(payload)
        if not self.allowed(s.node_id):
            raise ProtocolError(401, "not whitelisted")
        if s.node_id == self.node_id:
            raise ProtocolError(406, "update addressed to its own origin")
        if not self.apply_state(s):
            return b""
        return encode_state(self.own_state_packet())

    def on_ping(self, payload: bytes, remote_ip: str) -> bytes:
        return b""

    def on_data(self, payload: bytes, remote_ip: str) -> bytes:
        d = decode_data(payload)
        with self.lock:
            known = d.node_id in self.address_book
            key = self.creds.peer_keys.get(d.node_id)
        if not self.allowed(d.node_id) or not known or key is None:
            raise ProtocolError(401, "unknown sender")
        if not verify_signature(key, data_signed_bytes(d.node_id, d.data), d.sig):
            raise ProtocolError(401, "bad signature")
        event = {"event": "receive", "node": d.node_id, "size": len(d.data),
                 "sha256": hashlib.sha256(d.data).hexdigest()}
        if len(d.data) <= RECEIVE_HEX_MAX:
            event["data_hex"] = d.data.hex()
        emit(event)
        return DATA_OK

    # -- client side ---------------------------------------------------------

    def request(self, address: str, port: int, msg_type: int, payload: bytes) -> bytes:
        """POST one message; returns the response payload (b"" when empty).

        2 s per try (at least 1 MB/s), 3 tries, 0.5 s apart. Transport failures
        and 500 are retried; any other non-200/204 status fails at once.
        """
        body = build_body(msg_type, payload, self.aes_key)
        timeout = max(CLIENT_TIMEOUT, len(body) / CLIENT_MIN_RATE)
        last_error: Optional[Exception] = None
        status, data = 0, b""
        for attempt in range(CLIENT_TRIES):
            if attempt:
                time.sleep(CLIENT_RETRY_DELAY)
            try:
                status, data = _http_post(address, port, TYPE_TO_PATH[msg_type], body, timeout)
            except (OSError, http.client.HTTPException) as e:
                last_error = e
                continue
            if status == 500:
                last_error = RequestFailed("HTTP 500", 500)
                continue
            last_error = None
            break
        if last_error is not None:
            if isinstance(last_error, RequestFailed):
                raise last_error
            raise RequestFailed("%s:%d unreachable: %s" % (address, port, last_error))
        if status == 204:
            return b""
        if status != 200:
            raise RequestFailed("HTTP %d: %s" % (status, data[:200].decode("utf-8", "replace")), status)
        if not data:
            return b""
        if self.aes_key:
            try:
                data = aes_decrypt(self.aes_key, data)
            except ValueError:
                raise RequestFailed("cannot decrypt response") from None
        if not data or data[0] != msg_type:
            raise RequestFailed("response type byte mismatch")
        return data[1:]

    def send_hello(self, address: str, port: int) -> str:
        with self.lock:
            own_address = self.own_address
        h = Hello(self.version, self.node_id, own_address, self.port, self.keypair.public_raw)
        h.sig = self.keypair.sign(hello_signed_bytes(h))
        try:
            resp = decode_hello(self.request(address, port, MSG_HELLO, encode_hello(h)))
        except DecodeError as e:
            raise RequestFailed("malformed Hello response: %s" % e) from None
        if resp.version != self.version:
            raise RequestFailed("version mismatch: %r" % resp.version)
        if not resp.node_id or resp.node_id == self.node_id:
            raise RequestFailed("bad node_id in Hello response: %r" % resp.node_id)
        if not public_key_is_valid(resp.public_key):
            raise RequestFailed("invalid public key in Hello response")
        with self.lock:
            known = self.creds.peer_keys.get(resp.node_id)
            if known is None:
                self.creds.store_peer_key(resp.node_id, resp.public_key)
            elif known != resp.public_key:
                raise RequestFailed("public key of %s changed" % resp.node_id)
            if resp.detected_address:
                self.own_address = resp.detected_address
                self.address_book[self.node_id] = (self.own_address, self.port)
        self._record_peer(resp.node_id, address, port)
        return resp.node_id

    def send_update(self, address: str, port: int) -> None:
        payload = self.request(address, port, MSG_UPDATE, encode_state(self.own_state_packet()))
        if not payload:
            return
        try:
            s = decode_state(payload)
            if s.node_id != self.node_id:
                self.apply_state(s)
        except (DecodeError, ProtocolError) as e:
            log("ignoring State in UPDATE reply from %s:%d: %s" % (address, port, e))

    def send_peers(self, address: str, port: int) -> List[Tuple[str, Optional[str], int]]:
        req = Peers(self.node_id)
        req.sig = self.keypair.sign(peers_signed_bytes(req))
        try:
            resp = decode_peers(self.request(address, port, MSG_PEERS, encode_peers(req)))
        except DecodeError as e:
            raise RequestFailed("malformed Peers response: %s" % e) from None
        with self.lock:
            key = self.creds.peer_keys.get(resp.node_id)
        if key is None or not verify_signature(key, peers_signed_bytes(resp), resp.sig):
            raise RequestFailed("bad Peers signature from %s" % resp.node_id)
        return resp.connections

    def send_ping(self, address: str, port: int) -> None:
        self.request(address, port, MSG_PING, PING_PAYLOAD)

    def send_data(self, peer_id: str, data: bytes) -> None:
        with self.lock:
            ep = self.address_book.get(peer_id)
        if peer_id == self.node_id or ep is None or not ep[0]:
            raise RequestFailed("no address for %s" % peer_id)
        d = Data(self.node_id, self.keypair.sign(data_signed_bytes(self.node_id, data)), data)
        answer = self.request(ep[0], ep[1], MSG_DATA, encode_data(d))
        if answer != DATA_OK:
            raise RequestFailed("unexpected DATA answer %r" % answer[:50])

    # -- behaviour -----------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            self.states[self.node_id] = StoredState(self.node_id, time.time(), b"", {})
            self._sign_own_state()
        self.server = make_server(self)
        self.port = self.server.server_address[1]
        with self.lock:
            self.address_book[self.node_id] = (self.own_address, self.port)
        threading.Thread(target=self.server.serve_forever, name="http", daemon=True).start()
        self.join()
        threading.Thread(target=self._tick_loop, name="tick", daemon=True).start()

    def join(self) -> None:
        if not self.bootstrap_endpoints:
            return
        for address, port in self.bootstrap_endpoints:
            try:
                self.send_hello(address, port)
                self.send_update(address, port)
                conns = self.send_peers(address, port)
            except RequestFailed as e:
                log("bootstrap %s:%d failed: %s" % (address, port, e))
                continue
            self.join_unknown(conns)
            return
        emit({"event": "alert", "message": "no bootstrap node answered"})

    def join_unknown(self, conns: List[Tuple[str, Optional[str], int]]) -> None:
        """HELLO + UPDATE every listed peer not yet known (failures are logged)."""
        for peer_id, address, port in conns:
            if peer_id == self.node_id or not self.allowed(peer_id):
                continue
            with self.lock:
                known = peer_id in self.address_book
            if known or not address:
                continue
            try:
                self.send_hello(address, port)
                self.send_update(address, port)
            except RequestFailed as e:
                log("joining %s at %s:%d failed: %s" % (peer_id, address, port, e))

    def update_own(self, key: str, value: str) -> None:
        with self.lock:
            own = self.states[self.node_id]
            own.data[key] = value
            own.last_update = time.time()
            self._sign_own_state()
            targets = [(pid, ep) for pid, ep in self.address_book.items() if pid != self.node_id and ep[0]]

        def push(target):
            pid, (address, port) = target
            try:
                self.send_update(address, port)
            except RequestFailed as e:
                log("UPDATE to %s failed: %s" % (pid, e))

        run_parallel(push, targets)

    def _tick_loop(self) -> None:
        while not self.stop_event.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception as e:  # noqa: BLE001 - keep ticking
                log("tick error: %r" % e)

    def tick(self) -> None:
        with self.lock:
            targets = [(pid, self.address_book[pid]) for pid in self.states
                       if pid != self.node_id and pid in self.address_book and self.address_book[pid][0]]
        failed: List[str] = []

        def ping(target):
            pid, (address, port) = target
            try:
                self.send_ping(address, port)
            except RequestFailed as e:
                log("PING %s failed: %s" % (pid, e))
                failed.append(pid)

        run_parallel(ping, targets)
        for pid in failed:
            with self.lock:
                self.states.pop(pid, None)
                self.address_book.pop(pid, None)
            emit({"event": "disconnect", "node": pid})
        if self.stop_event.is_set():
            return
        with self.lock:
            candidates = [(pid, ep) for pid, ep in self.address_book.items() if pid != self.node_id and ep[0]]
        if not candidates:
            return
        pid, (address, port) = random.choice(candidates)
        try:
            self.send_update(address, port)
            conns = self.send_peers(address, port)
        except RequestFailed as e:
            log("gossip with %s failed: %s" % (pid, e))
            return
        self.join_unknown(conns)

    def shutdown(self) -> None:
        self.stop_event.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- reads -----------------------------------------------------------------

    def read(self, node_id: str, key: str):
        with self.lock:
            s = self.states.get(node_id)
            return None if s is None else s.data.get(key)

    def peer_ids(self) -> List[str]:
        with self.lock:
            return list(self.states.keys())

    def entries(self, node_id: str):
        with self.lock:
            s = self.states.get(node_id)
            return None if s is None else [[k, v] for k, v in s.data.items()]


def run_parallel(fn: Callable, items: list) -> None:
    threads = [threading.Thread(target=fn, args=(item,), daemon=True) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _http_post(address: str, port: int, path: str, body: bytes, timeout: float) -> Tuple[int, bytes]:
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(body)),
        })
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    server_version = "pypeer"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - quiet request log
        pass

    def _read_body(self) -> Optional[bytes]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(n)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(400, b"bad request body", "text/plain; charset=utf-8")
            return
        status, out, ctype = self.server.node.handle_request(self.path, body, self.client_address[0])
        self._send(status, out, ctype)

    def do_GET(self):  # noqa: N802
        self._send(404, b"unknown path", "text/plain; charset=utf-8")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(node: Node) -> http.server.ThreadingHTTPServer:
    cls = _Server6 if ":" in node.host else _Server
    server = cls((node.host, node.port), Handler)
    server.node = node
    return server


# ---------------------------------------------------------------------------
# Control channel
# ---------------------------------------------------------------------------


def handle_command(node: Node, cmd: dict) -> Tuple[dict, bool]:
    """Returns (reply fields, stop?)."""
    name = cmd.get("cmd")
    if name == "update":
        key, value = cmd.get("key"), cmd.get("value")
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("key and value must be strings")
        node.update_own(key, value)
        return {}, False
    if name == "read":
        return {"value": node.read(cmd.get("node"), cmd.get("key"))}, False
    if name == "peers":
        return {"peers": node.peer_ids()}, False
    if name == "send":
        if "repeat_hex" in cmd:
            # Big payloads: a short pattern repeated to `size` bytes, not hex on stdin.
            unit = bytes.fromhex(cmd["repeat_hex"])
            size = int(cmd["size"])
            data = (unit * (size // len(unit) + 1))[:size]
        else:
            data = bytes.fromhex(cmd.get("data_hex", ""))
        node.send_data(cmd.get("node"), data)
        return {}, False
    if name == "state":
        return {"entries": node.entries(cmd.get("node"))}, False
    if name == "stop":
        return {}, True
    raise ValueError("unknown command %r" % name)


def control_loop(node: Node) -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("command must be an object")
        except ValueError as e:
            emit({"reply": None, "ok": False, "error": "bad command: %s" % e})
            continue
        cid = cmd.get("id")
        try:
            fields, stop = handle_command(node, cmd)
        except Exception as e:  # noqa: BLE001 - report every failure
            emit({"reply": cid, "ok": False, "error": str(e)})
            continue
        reply = {"reply": cid, "ok": True}
        reply.update(fields)
        emit(reply)
        if stop:
            return


def parse_endpoint(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host.strip("[]"), int(port)


def parse_args(argv: List[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Independent DSN 0.9.0 test peer (Python).")
    ap.add_argument("--id", required=True, dest="node_id")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--key", default=None, help="AES-128 key, 32 hex characters")
    ap.add_argument("--cred", default=None, help="credential directory (Python layout)")
    ap.add_argument("--bootstrap", nargs="+", action="append", default=[], type=parse_endpoint)
    ap.add_argument("--whitelist", default=None, help="comma-separated node IDs")
    ap.add_argument("--tick", type=float, default=3.0)
    ap.add_argument("--version", default=PROTOCOL_VERSION, dest="proto_version")
    args = ap.parse_args(argv)
    if args.key is not None:
        key = bytes.fromhex(args.key)
        if len(key) != 16:
            ap.error("--key must be 32 hex characters")
        args.key = key
    args.bootstrap = [ep for group in args.bootstrap for ep in group]
    args.whitelist = [w for w in args.whitelist.split(",") if w] if args.whitelist else None
    return args


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    node = Node(args.node_id, args.port, args.host, args.key, args.cred, args.bootstrap,
                args.whitelist, args.tick, args.proto_version)
    node.start()
    emit({"event": "ready", "port": node.port, "node_id": node.node_id})
    try:
        control_loop(node)
    except KeyboardInterrupt:
        pass
    node.shutdown()
    with _out_lock:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
