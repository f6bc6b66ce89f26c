"""Credentials: what goes into CONNECT for each authentication method.

Methods, in the order they are chosen: credentials in the server URL
(``nats://user:pass@host``, ``nats://token@host``), ``user_credentials`` (a ``.creds``
file, or a ``(jwt_file, seed_file)`` pair), ``user_jwt_cb`` + ``signature_cb``,
``nkeys_seed`` / ``nkeys_seed_str``, then ``user``/``password`` and ``token``. Secrets are
read when a connection needs them (not kept in repr or logs) and key pairs are wiped
after signing.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nkeys

from rxnats.errors import InvalidUserCredentialsError
from rxnats.wire.frames import ServerInfo
from rxnats.wire.urls import ServerAddress

__all__ = [
    "AuthSettings",
    "Credentials",
    "JWTCallback",
    "SignatureCallback",
    "auth_fields",
]

SignatureCallback = Callable[[str], bytes]
JWTCallback = Callable[[], bytes | bytearray | str]
#: A path to a ``.creds`` file, or a ``(jwt_file, nkey_seed_file)`` pair.
Credentials = str | Path | tuple[str | Path, str | Path]

_CREDS_BLOCK = re.compile(
    r"-{3,}[^\n]*BEGIN[^\n]*-{3,}\r?\n(?P<body>.+?)\r?\n-{3,}[^\n]*END[^\n]*-{3,}",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The authentication options of a client (secrets hidden from repr)."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    user_credentials: Credentials | None = None
    nkeys_seed: str | None = None  # a path
    nkeys_seed_str: str | None = field(default=None, repr=False)
    user_jwt_cb: JWTCallback | None = None
    signature_cb: SignatureCallback | None = None

    def validate(self) -> None:
        """Reject combinations that cannot work together.

        Raises:
            InvalidUserCredentialsError: conflicting or incomplete settings.
        """
        if self.nkeys_seed and self.nkeys_seed_str:
            raise InvalidUserCredentialsError("give nkeys_seed or nkeys_seed_str, not both")
        if self.user_credentials is not None and (self.nkeys_seed or self.nkeys_seed_str):
            raise InvalidUserCredentialsError("give user_credentials or an nkeys seed, not both")
        if (self.user_jwt_cb is None) != (self.signature_cb is None) and not (
            self.signature_cb is not None and (self.nkeys_seed or self.nkeys_seed_str)
        ):
            raise InvalidUserCredentialsError(
                "user_jwt_cb and signature_cb go together (the JWT and the nonce signer)"
            )
        if self.password is not None and self.user is None:
            raise InvalidUserCredentialsError("password given without user")
        if self.token is not None and self.user is not None:
            raise InvalidUserCredentialsError("give user/password or token, not both")


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InvalidUserCredentialsError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from exc


def _blocks(text: bytes) -> list[bytes]:
    return [m.group("body").strip().encode() for m in _CREDS_BLOCK.finditer(text.decode("utf-8", "replace"))]


def read_creds(creds: Credentials) -> tuple[bytes, bytes]:
    """Return ``(jwt, seed)`` from a creds file or a ``(jwt_file, seed_file)`` pair.

    Raises:
        InvalidUserCredentialsError: unreadable file, or no JWT/seed block in it.
    """
    if isinstance(creds, tuple):
        jwt_raw = _read(creds[0], "JWT file")
        seed_raw = _read(creds[1], "nkey seed file")
        jwt_blocks = _blocks(jwt_raw) or [jwt_raw.strip()]
        seed_blocks = _blocks(seed_raw) or [seed_raw.strip()]
        jwt, seed = jwt_blocks[0], seed_blocks[0]
    else:
        raw = _read(creds, "credentials file")
        blocks = _blocks(raw)
        if len(blocks) < 2:
            raise InvalidUserCredentialsError(
                f"credentials file {str(creds)!r} has no JWT and seed blocks"
            )
        jwt, seed = blocks[0], blocks[1]
    if not jwt.startswith(b"ey"):
        raise InvalidUserCredentialsError("credentials JWT is not a JWT")
    if not seed.startswith(b"S"):
        raise InvalidUserCredentialsError("credentials seed is not an nkey seed")
    return jwt, seed


def sign_nonce(seed: bytes, nonce: str) -> tuple[str, str]:
    """Sign ``nonce`` with ``seed``; return ``(public_key, signature)``, base64url unpadded.

    Raises:
        InvalidUserCredentialsError: the seed is not a valid nkey seed.
    """
    try:
        kp = nkeys.from_seed(bytearray(seed))
    except Exception as exc:  # nkeys raises several unrelated types
        raise InvalidUserCredentialsError(f"invalid nkey seed: {type(exc).__name__}") from None
    try:
        public = kp.public_key.decode()
        sig = kp.sign(nonce.encode())
    finally:
        kp.wipe()
    return public, base64.urlsafe_b64encode(sig).decode().rstrip("=")


def _signature_text(signed: bytes) -> str:
    # nats-py's signature_cb returns the base64 text as bytes; a raw Ed25519 signature is
    # exactly 64 bytes (its base64 is 86+ characters), so both forms are told apart.
    if len(signed) == 64:
        return base64.urlsafe_b64encode(signed).decode().rstrip("=")
    try:
        return signed.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidUserCredentialsError("signature_cb returned neither a signature nor base64") from None


def _seed_from_settings(s: AuthSettings) -> bytes:
    if s.nkeys_seed_str:
        return s.nkeys_seed_str.strip().encode()
    assert s.nkeys_seed is not None
    raw = _read(s.nkeys_seed, "nkey seed file")
    blocks = _blocks(raw)
    return blocks[-1] if blocks else raw.strip()


def auth_fields(s: AuthSettings, info: ServerInfo, address: ServerAddress) -> dict[str, str]:
    """The CONNECT fields that authenticate to the server described by ``info``.

    Nothing is sent to a server that does not ask for authentication.

    Raises:
        InvalidUserCredentialsError: credentials could not be read or used.
    """
    if not info.auth_required:
        return {}
    out: dict[str, str] = {}
    if address.user is not None:
        out["user"] = address.user
        out["pass"] = address.password or ""
        return out
    if address.token is not None:
        out["auth_token"] = address.token
        return out
    nonce = info.nonce
    if s.user_credentials is not None:
        jwt, seed = read_creds(s.user_credentials)
        out["jwt"] = jwt.decode()
        if nonce:
            _, out["sig"] = sign_nonce(seed, nonce)
        return out
    if s.user_jwt_cb is not None and s.signature_cb is not None:
        jwt_value = s.user_jwt_cb()
        out["jwt"] = jwt_value if isinstance(jwt_value, str) else bytes(jwt_value).decode()
        if nonce:
            out["sig"] = _signature_text(s.signature_cb(nonce))
        return out
    if s.nkeys_seed or s.nkeys_seed_str:
        seed = _seed_from_settings(s)
        public, sig = sign_nonce(seed, nonce)
        out["nkey"] = public
        out["sig"] = sig
        return out
    if s.user is not None:
        out["user"] = s.user
        out["pass"] = s.password or ""
    elif s.token is not None:
        out["auth_token"] = s.token
    return out
