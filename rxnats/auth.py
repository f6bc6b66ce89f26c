"""Credentials: what goes into CONNECT for each authentication method.

Methods, in the order they are chosen: credentials in the server URL
(``nats://user:pass@host``, ``nats://token@host``), ``user_credentials`` (a ``.creds``
file, a ``(jwt_file, seed_file)`` pair, or :class:`RawCredentials` holding the text of
one), ``user_jwt_cb`` + ``signature_cb``, ``nkeys_seed`` / ``nkeys_seed_str``, then
``user``/``password`` and ``token`` (each a string or a function returning one, called
at every connect). A ``token`` also goes along with a JWT or nkey (auth callout).

Configured credentials are always sent, whether or not the server's INFO says
``auth_required``: a server with ``no_auth_user`` does not say it, and would otherwise
log the client in as that default user, with its permissions.

Secrets stay out of sight: :class:`AuthSettings` hides them from ``repr()``, error
messages name a file's path but never its content, and seeds read from files are held in
a ``bytearray`` that is zeroed as soon as the nonce is signed (the nkeys ``KeyPair`` is
wiped too). Python cannot promise more: ``nkeys_seed_str`` is an immutable ``str`` the
caller gave us and must keep for reconnects.
"""

from __future__ import annotations

import base64
import re
from collections import UserString
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nkeys

from rxnats.errors import InvalidUserCredentialsError
from rxnats.wire.frames import ServerInfo
from rxnats.wire.urls import ServerAddress

__all__ = [
    "AuthSettings",
    "CredentialCallback",
    "Credentials",
    "JWTCallback",
    "RawCredentials",
    "SignatureCallback",
    "TokenCallback",
    "auth_fields",
    "read_creds",
    "sign_nonce",
]

SignatureCallback = Callable[[str], bytes]
JWTCallback = Callable[[], bytes | bytearray | str]
#: A ``token`` given as a function: called at every connect, returns the token.
TokenCallback = Callable[[], str]
#: A ``user`` or ``password`` given as a function: called at every connect.
CredentialCallback = Callable[[], str]


class RawCredentials(UserString):
    """The text of a ``.creds`` file (rather than its path), for ``user_credentials``.

    ``repr()`` hides the text: it holds a seed.
    """

    def __repr__(self) -> str:
        return "RawCredentials(<hidden>)"


#: A path to a ``.creds`` file, a ``(jwt_file, nkey_seed_file)`` pair, or the text of a
#: ``.creds`` file as :class:`RawCredentials`.
Credentials = str | Path | tuple[str | Path, str | Path] | RawCredentials

# One armoured block of a .creds file: "-----BEGIN NATS USER JWT-----" ... "------END ...".
_CREDS_BLOCK = re.compile(
    rb"-{3,}[^\n]*BEGIN[^\n]*-{3,}\r?\n(?P<body>.+?)\r?\n-{3,}[^\n]*END[^\n]*-{3,}",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The authentication options of a client (secrets hidden from repr)."""

    user: str | CredentialCallback | None = None
    password: str | CredentialCallback | None = field(default=None, repr=False)
    token: str | TokenCallback | None = field(default=None, repr=False)
    user_credentials: Credentials | None = None
    nkeys_seed: str | None = None  # a path
    nkeys_seed_str: str | None = field(default=None, repr=False)
    user_jwt_cb: JWTCallback | None = None
    signature_cb: SignatureCallback | None = None

    def validate(self) -> None:
        """Reject combinations that cannot work and credentials that cannot be used.

        Seed files and creds files are read (and the seed checked) now, so that a typo
        fails at ``connect()`` rather than at the first server that asks for auth.

        Raises:
            InvalidUserCredentialsError: conflicting or incomplete settings, an unreadable
                or malformed creds/seed file, or an invalid seed.
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
        for name, value in (("user", self.user), ("password", self.password), ("token", self.token)):
            if value is not None and not isinstance(value, str) and not callable(value):
                raise InvalidUserCredentialsError(
                    f"{name} must be a str or a function returning one, not {type(value).__name__}"
                )
        if self.password is not None and self.user is None:
            raise InvalidUserCredentialsError("password given without user")
        if self.token is not None and self.user is not None:
            raise InvalidUserCredentialsError("give user/password or token, not both")
        if self.user_credentials is not None:
            _, seed = read_creds(self.user_credentials)
            _check_seed(seed)
        elif self.nkeys_seed or self.nkeys_seed_str:
            _check_seed(_seed_from_settings(self))


def _read(path: str | Path, what: str) -> bytearray:
    """The bytes of ``path`` in a buffer the caller can zero; errors name the path only."""
    try:
        with Path(path).expanduser().open("rb") as f:
            return bytearray(f.read())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidUserCredentialsError(f"cannot read {what} {str(path)!r}: {reason}") from None


def _wipe(buf: bytearray) -> None:
    buf[:] = bytes(len(buf))


def _blocks(text: bytearray) -> list[bytearray]:
    return [bytearray(m.group("body").strip()) for m in _CREDS_BLOCK.finditer(text)]


def _looks_like_jwt(jwt: bytes | bytearray) -> bool:
    parts = bytes(jwt).split(b".")
    return len(parts) == 3 and jwt.startswith(b"ey") and all(parts)


def read_creds(creds: Credentials) -> tuple[bytes, bytearray]:
    """Return ``(jwt, seed)`` from a creds file or a ``(jwt_file, seed_file)`` pair.

    The seed comes in a ``bytearray``: zero it when done (:func:`sign_nonce` does).

    Raises:
        InvalidUserCredentialsError: unreadable file, or no JWT/seed block in it. The
            message names the file, never what is in it.
    """
    if isinstance(creds, tuple):
        jwt_raw = _read(creds[0], "JWT file")
        seed_raw = _read(creds[1], "nkey seed file")
        jwt_blocks = _blocks(jwt_raw) or [bytearray(jwt_raw.strip())]
        seed_blocks = _blocks(seed_raw) or [bytearray(seed_raw.strip())]
        _wipe(seed_raw)
        jwt, seed = jwt_blocks[0], seed_blocks[0]
        for extra in seed_blocks[1:]:
            _wipe(extra)
        where = f"{str(creds[0])!r}"
    else:
        if isinstance(creds, RawCredentials):
            raw = bytearray(creds.data.encode())
            where = "the raw credentials"
        else:
            raw = _read(creds, "credentials file")
            where = f"{str(creds)!r}"
        blocks = _blocks(raw)
        _wipe(raw)
        if len(blocks) < 2:
            for block in blocks:
                _wipe(block)
            raise InvalidUserCredentialsError(f"credentials {where} have no JWT and seed blocks")
        jwt, seed = blocks[0], blocks[1]
        for extra in blocks[2:]:
            _wipe(extra)
    if not _looks_like_jwt(jwt):
        _wipe(seed)
        raise InvalidUserCredentialsError(f"the JWT in {where} is not a JWT")
    if not seed.startswith(b"S"):
        _wipe(seed)
        raise InvalidUserCredentialsError(f"the seed in {where} is not an nkey seed")
    return bytes(jwt), seed


def _checksum_ok(seed: bytearray) -> bool:
    # nkeys (0.2) does not check the CRC-16 that ends every encoded key, so a mistyped
    # seed would sign happily and only fail at the server as "authorization violation".
    try:
        raw = bytearray(base64.b32decode(bytes(seed) + b"=" * (-len(seed) % 8)))
    except ValueError:
        return False
    try:
        return len(raw) > 2 and nkeys.crc16_checksum(raw[:-2]) == bytes(raw[-2:])
    finally:
        _wipe(raw)


def _keypair(seed: bytearray) -> nkeys.KeyPair:
    if not _checksum_ok(seed):
        raise InvalidUserCredentialsError("invalid nkey seed (bad encoding or checksum)")
    try:
        return nkeys.from_seed(seed)
    except Exception as exc:  # nkeys raises several unrelated types (binascii, its own)
        raise InvalidUserCredentialsError(f"invalid nkey seed ({type(exc).__name__})") from None


def _check_seed(seed: bytearray) -> None:
    try:
        _keypair(seed).wipe()
    finally:
        _wipe(seed)


def sign_nonce(seed: bytearray, nonce: str) -> tuple[str, str]:
    """Sign ``nonce`` with ``seed``; return ``(public_key, signature)``, base64url unpadded.

    ``seed`` is zeroed before this returns, whatever happens.

    Raises:
        InvalidUserCredentialsError: the seed is not a valid nkey seed.
    """
    try:
        kp = _keypair(seed)
        try:
            public = bytes(kp.public_key).decode()
            sig = kp.sign(nonce.encode())
        finally:
            kp.wipe()
    finally:
        _wipe(seed)
    return public, base64.urlsafe_b64encode(sig).decode().rstrip("=")


def _signature_text(signed: bytes | bytearray | str) -> str:
    # nats-py's signature_cb returns the base64 text as bytes; a raw Ed25519 signature is
    # exactly 64 bytes (its base64 is 86+ characters), so both forms are told apart.
    if isinstance(signed, str):
        return signed.strip()
    if len(signed) == 64:
        return base64.urlsafe_b64encode(signed).decode().rstrip("=")
    try:
        return bytes(signed).decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidUserCredentialsError(
            "signature_cb returned neither a signature nor base64"
        ) from None


def _seed_from_settings(s: AuthSettings) -> bytearray:
    if s.nkeys_seed_str:
        return bytearray(s.nkeys_seed_str.strip().encode())
    assert s.nkeys_seed is not None
    raw = _read(s.nkeys_seed, "nkey seed file")
    blocks = _blocks(raw)
    if blocks:
        _wipe(raw)
        for extra in blocks[:-1]:
            _wipe(extra)
        return blocks[-1]
    seed = bytearray(raw.strip())
    _wipe(raw)
    return seed


def _call_user(cb: Callable[[], bytes | bytearray | str], what: str) -> bytes | bytearray | str:
    try:
        return cb()
    except Exception as exc:
        # The callback's own message is not repeated: it may quote what it was handling.
        raise InvalidUserCredentialsError(f"{what} raised {type(exc).__name__}") from exc


def _need_nonce(info: ServerInfo, method: str) -> str:
    if not info.nonce:
        raise InvalidUserCredentialsError(
            f"the server sent no nonce to sign, so {method} cannot authenticate"
        )
    return info.nonce


def _text(value: str | Callable[[], str], what: str) -> str:
    """``value``, or what calling it returns (it must be a ``str``)."""
    if isinstance(value, str):
        return value
    result = _call_user(value, what)
    if not isinstance(result, str):
        raise InvalidUserCredentialsError(
            f"{what} returned {type(result).__name__}, not a str"
        )
    return result


def auth_fields(s: AuthSettings, info: ServerInfo, address: ServerAddress) -> dict[str, str]:
    """The CONNECT fields that authenticate to the server described by ``info``.

    What is configured is sent whether or not ``info`` says ``auth_required`` (see the
    module docstring). Credentials in the URL of ``address`` win over the client-wide
    ones. An nkey needs the server's nonce: without one it is sent only to a server that
    requires authentication (which then fails clearly); a server that sends no nonce has
    no nkey users, so there is nothing to prove to it.

    Raises:
        InvalidUserCredentialsError: credentials could not be read or used, or a user
            callback raised or returned something other than a string.
    """
    if address.user is not None:
        return {"user": address.user, "pass": address.password or ""}
    if address.token is not None:
        return {"auth_token": address.token}
    out: dict[str, str] = {}
    if s.user_credentials is not None:
        jwt, seed = read_creds(s.user_credentials)
        out["jwt"] = jwt.decode()
        if info.nonce:
            _, out["sig"] = sign_nonce(seed, info.nonce)
        else:
            _wipe(seed)
    elif s.user_jwt_cb is not None and s.signature_cb is not None:
        jwt_value = _call_user(s.user_jwt_cb, "user_jwt_cb")
        out["jwt"] = jwt_value if isinstance(jwt_value, str) else bytes(jwt_value).decode()
        if info.nonce:
            nonce = info.nonce
            signature_cb = s.signature_cb
            out["sig"] = _signature_text(_call_user(lambda: signature_cb(nonce), "signature_cb"))
    elif s.nkeys_seed or s.nkeys_seed_str:
        if info.nonce or info.auth_required:
            nonce = _need_nonce(info, "an nkey seed")
            out["nkey"], out["sig"] = sign_nonce(_seed_from_settings(s), nonce)
    elif s.user is not None:
        out["user"] = _text(s.user, "user")
        out["pass"] = _text(s.password, "password") if s.password is not None else ""
        return out
    if s.token is not None:
        # Alone, or along with a JWT or nkey for an auth callout (as nats-py sends it).
        out["auth_token"] = _text(s.token, "token")
    return out
