"""Unit tests of rxnats.auth (no server): CONNECT fields, creds parsing, seeds, wiping."""

from __future__ import annotations

import base64
from pathlib import Path

import nacl.signing
import nkeys
import pytest
from jwt_helpers import Identity, creds_text, new_keypair, operator_setup, user_jwt

from rxnats.auth import AuthSettings, RawCredentials, auth_fields, read_creds, sign_nonce
from rxnats.errors import InvalidUserCredentialsError
from rxnats.wire.frames import ServerInfo
from rxnats.wire.urls import parse_server_url

NONCE = "bm9uY2Utc2FtcGxl"
AUTH = ServerInfo(auth_required=True, nonce=NONCE)
PLAIN = parse_server_url("nats://127.0.0.1:4222")


@pytest.fixture
def user() -> Identity:
    return new_keypair(nkeys.PREFIX_BYTE_USER)


def verify(public: str, signature_b64: str, nonce: str = NONCE) -> bool:
    """Check a base64url signature of ``nonce`` against an encoded public nkey."""
    sig = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    raw = base64.b32decode(public + "=" * (-len(public) % 8))
    # An encoded public key is: prefix byte, 32 key bytes, CRC-16.
    nacl.signing.VerifyKey(bytes(raw[1:-2])).verify(nonce.encode(), sig)
    return True


# ------------------------------------------------------------------------- auth_fields
def test_credentials_are_sent_when_the_server_does_not_ask() -> None:
    # A no_auth_user server does not say auth_required: dropping the credentials would
    # log the client in as that default user.
    no_auth = ServerInfo()
    assert auth_fields(AuthSettings(user="u", password="p"), no_auth, PLAIN) == {
        "user": "u",
        "pass": "p",
    }
    assert auth_fields(AuthSettings(token="t"), no_auth, PLAIN) == {"auth_token": "t"}
    with_user = parse_server_url("nats://url-user:pw@h:1")
    assert auth_fields(AuthSettings(), no_auth, with_user) == {"user": "url-user", "pass": "pw"}


def test_nothing_is_sent_when_nothing_is_configured() -> None:
    assert auth_fields(AuthSettings(), ServerInfo(), PLAIN) == {}
    assert auth_fields(AuthSettings(), AUTH, PLAIN) == {}


def test_nkey_without_a_nonce_to_a_server_without_auth_sends_nothing(user: Identity) -> None:
    # No nonce: the server has no nkey users, there is nothing to sign (nats-py agrees).
    assert auth_fields(AuthSettings(nkeys_seed_str=user.seed), ServerInfo(), PLAIN) == {}
    # With a nonce (a no_auth_user server that has nkey users) the nkey is sent.
    fields = auth_fields(AuthSettings(nkeys_seed_str=user.seed), ServerInfo(nonce=NONCE), PLAIN)
    assert fields["nkey"] == user.public and verify(user.public, fields["sig"])


def test_callable_user_password_and_token_are_called_at_each_connect() -> None:
    calls: list[str] = []

    def token() -> str:
        calls.append("token")
        return f"t{len(calls)}"

    assert auth_fields(AuthSettings(token=token), AUTH, PLAIN) == {"auth_token": "t1"}
    assert auth_fields(AuthSettings(token=token), AUTH, PLAIN) == {"auth_token": "t2"}
    settings = AuthSettings(user=lambda: "u", password=lambda: "p")
    assert auth_fields(settings, AUTH, PLAIN) == {"user": "u", "pass": "p"}


def test_a_token_function_that_fails_or_returns_no_str_is_a_clear_error() -> None:
    def boom() -> str:
        raise RuntimeError("secret detail")

    with pytest.raises(InvalidUserCredentialsError, match="token raised RuntimeError") as info:
        auth_fields(AuthSettings(token=boom), AUTH, PLAIN)
    assert "secret detail" not in str(info.value)
    with pytest.raises(InvalidUserCredentialsError, match="token returned bytes"):
        auth_fields(AuthSettings(token=lambda: b"t"), AUTH, PLAIN)  # type: ignore[arg-type,return-value]  # deliberately wrong


@pytest.mark.parametrize("field", ["user", "password", "token"])
def test_credentials_of_another_type_are_refused_at_validate(field: str) -> None:
    kwargs: dict[str, object] = {"user": "u"} if field == "password" else {}
    kwargs[field] = 12345
    with pytest.raises(InvalidUserCredentialsError, match=f"{field} must be a str or a function"):
        AuthSettings(**kwargs).validate()  # type: ignore[arg-type]  # deliberately wrong


def test_token_goes_along_with_an_nkey_for_auth_callout(user: Identity) -> None:
    fields = auth_fields(AuthSettings(nkeys_seed_str=user.seed, token="t"), AUTH, PLAIN)
    assert fields["nkey"] == user.public and fields["auth_token"] == "t"


def test_raw_credentials_hold_the_text_of_a_creds_file(user: Identity) -> None:
    jwt = user_jwt(new_keypair(nkeys.PREFIX_BYTE_ACCOUNT), user)
    raw = RawCredentials(creds_text(jwt, user.seed))
    assert user.seed not in repr(raw)
    got_jwt, seed = read_creds(raw)
    assert got_jwt.decode() == jwt and bytes(seed).decode() == user.seed
    fields = auth_fields(AuthSettings(user_credentials=raw), AUTH, PLAIN)
    assert fields["jwt"] == jwt and verify(user.public, fields["sig"])
    with pytest.raises(InvalidUserCredentialsError, match="raw credentials") as info:
        read_creds(RawCredentials("not a creds file " + user.seed))
    assert user.seed not in str(info.value)


def test_user_password_and_token_options() -> None:
    assert auth_fields(AuthSettings(user="u", password="p"), AUTH, PLAIN) == {
        "user": "u",
        "pass": "p",
    }
    assert auth_fields(AuthSettings(token="t"), AUTH, PLAIN) == {"auth_token": "t"}


def test_url_credentials_win() -> None:
    settings = AuthSettings(user="opt", password="opt-pw")
    with_user = parse_server_url("nats://url%40user:p%3Ass@h:1")  # percent-decoded
    assert auth_fields(settings, AUTH, with_user) == {"user": "url@user", "pass": "p:ss"}
    with_token = parse_server_url("nats://tok@h:1")
    assert auth_fields(settings, AUTH, with_token) == {"auth_token": "tok"}


def test_nkey_seed_signs_the_nonce(user: Identity) -> None:
    fields = auth_fields(AuthSettings(nkeys_seed_str=user.seed), AUTH, PLAIN)
    assert fields["nkey"] == user.public
    assert verify(user.public, fields["sig"])


def test_nkey_seed_file_with_or_without_armour(user: Identity, tmp_path: Path) -> None:
    bare = tmp_path / "bare.nk"
    bare.write_text(f"\n  {user.seed}\n")
    armoured = tmp_path / "armoured.nk"
    armoured.write_text(f"-----BEGIN USER NKEY SEED-----\r\n{user.seed}\r\n------END USER NKEY SEED------\r\n")
    for path in (bare, armoured):
        fields = auth_fields(AuthSettings(nkeys_seed=str(path)), AUTH, PLAIN)
        assert fields["nkey"] == user.public
        assert verify(user.public, fields["sig"])


def test_nkey_without_nonce_is_a_clear_error(user: Identity) -> None:
    with pytest.raises(InvalidUserCredentialsError, match="no nonce"):
        auth_fields(AuthSettings(nkeys_seed_str=user.seed), ServerInfo(auth_required=True), PLAIN)


def test_creds_file_gives_jwt_and_signature(tmp_path: Path) -> None:
    setup = operator_setup()
    creds = setup.write_creds(tmp_path)
    fields = auth_fields(AuthSettings(user_credentials=creds), AUTH, PLAIN)
    assert fields["jwt"] == setup.user_jwt
    assert verify(setup.user.public, fields["sig"])


def test_jwt_and_signature_callbacks(user: Identity) -> None:
    account = new_keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    token = user_jwt(account, user)
    raw = AuthSettings(user_jwt_cb=lambda: token.encode(), signature_cb=lambda n: user.sign(n.encode()))
    fields = auth_fields(raw, AUTH, PLAIN)
    assert fields["jwt"] == token
    assert verify(user.public, fields["sig"])
    b64 = AuthSettings(
        user_jwt_cb=lambda: token,
        signature_cb=lambda n: base64.urlsafe_b64encode(user.sign(n.encode())),
    )
    assert verify(user.public, auth_fields(b64, AUTH, PLAIN)["sig"].rstrip("="))


def test_a_raising_callback_becomes_a_typed_error_without_its_message() -> None:
    def boom() -> bytes:
        raise RuntimeError("vault token hvs.SECRET expired")

    settings = AuthSettings(user_jwt_cb=boom, signature_cb=lambda n: b"")
    with pytest.raises(InvalidUserCredentialsError, match="user_jwt_cb raised RuntimeError") as info:
        auth_fields(settings, AUTH, PLAIN)
    assert "hvs.SECRET" not in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


# ------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (AuthSettings(nkeys_seed="a", nkeys_seed_str="b"), "not both"),
        (AuthSettings(user_credentials="x.creds", nkeys_seed_str="S"), "not both"),
        (AuthSettings(user_jwt_cb=lambda: "jwt"), "go together"),
        (AuthSettings(password="p"), "without user"),
        (AuthSettings(user="u", token="t"), "not both"),
    ],
)
def test_conflicting_settings(settings: AuthSettings, match: str) -> None:
    with pytest.raises(InvalidUserCredentialsError, match=match):
        settings.validate()


@pytest.mark.parametrize(
    "seed",
    ["", "not-a-seed", "SUAAAAAA", "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"],
)
def test_invalid_seed_strings(seed: str) -> None:
    with pytest.raises(InvalidUserCredentialsError, match="invalid nkey seed"):
        AuthSettings(nkeys_seed_str=seed or " ").validate()


def test_seed_with_a_bad_checksum_is_rejected(user: Identity) -> None:
    # nkeys itself ignores the CRC; we do not.
    tampered = user.seed[:-2] + ("AB" if not user.seed.endswith("AB") else "CD")
    with pytest.raises(InvalidUserCredentialsError, match="checksum"):
        AuthSettings(nkeys_seed_str=tampered).validate()
    AuthSettings(nkeys_seed_str=user.seed).validate()


def test_missing_seed_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.nk"
    with pytest.raises(InvalidUserCredentialsError, match=r"nope\.nk"):
        AuthSettings(nkeys_seed=str(path)).validate()


# ------------------------------------------------------------------------- creds files
def test_read_creds_crlf_and_pair(tmp_path: Path, user: Identity) -> None:
    account = new_keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    token = user_jwt(account, user)
    crlf = tmp_path / "crlf.creds"
    crlf.write_bytes(creds_text(token, user.seed).replace("\n", "\r\n").encode())
    jwt, seed = read_creds(str(crlf))
    assert (jwt, bytes(seed)) == (token.encode(), user.seed.encode())
    jwt_file, seed_file = tmp_path / "u.jwt", tmp_path / "u.nk"
    jwt_file.write_text(token + "\n")
    seed_file.write_text(user.seed + "\n")
    jwt, seed = read_creds((jwt_file, seed_file))
    assert (jwt, bytes(seed)) == (token.encode(), user.seed.encode())


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "no JWT and seed blocks"),
        ("just some text\n", "no JWT and seed blocks"),
        ("-----BEGIN NATS USER JWT-----\nnotajwt\n------END NATS USER JWT------\n"
         "-----BEGIN USER NKEY SEED-----\nSUXX\n------END USER NKEY SEED------\n", "not a JWT"),
        ("-----BEGIN NATS USER JWT-----\neyA.eyB.sig\n------END NATS USER JWT------\n"
         "-----BEGIN USER NKEY SEED-----\nUABC\n------END USER NKEY SEED------\n", "not an nkey seed"),
    ],
)
def test_malformed_creds_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.creds"
    path.write_text(content)
    with pytest.raises(InvalidUserCredentialsError, match=match) as info:
        AuthSettings(user_credentials=str(path)).validate()
    assert "bad.creds" in str(info.value)


def test_creds_with_a_corrupt_seed_is_rejected_at_validation(tmp_path: Path, user: Identity) -> None:
    account = new_keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    path = tmp_path / "corrupt.creds"
    path.write_text(creds_text(user_jwt(account, user), "SU" + "A" * 30))
    with pytest.raises(InvalidUserCredentialsError, match="invalid nkey seed"):
        AuthSettings(user_credentials=path).validate()


# ------------------------------------------------------------------------- wiping
def test_sign_nonce_zeroes_the_seed_buffer_and_wipes_the_keypair(
    user: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiped: list[object] = []
    original = nkeys.KeyPair.wipe

    def spy(self: nkeys.KeyPair) -> None:
        wiped.append(self)
        original(self)

    monkeypatch.setattr(nkeys.KeyPair, "wipe", spy)
    buf = bytearray(user.seed.encode())
    public, sig = sign_nonce(buf, NONCE)
    assert public == user.public and verify(public, sig)
    assert buf == bytearray(len(buf))
    assert len(wiped) == 1
    kp = wiped[0]
    assert not hasattr(kp, "_seed") and not hasattr(kp, "_keys")


def test_sign_nonce_zeroes_an_invalid_seed_too() -> None:
    buf = bytearray(b"SUNOTAVALIDSEED")
    with pytest.raises(InvalidUserCredentialsError):
        sign_nonce(buf, NONCE)
    assert buf == bytearray(len(buf))


def test_read_creds_returns_a_wipeable_seed(tmp_path: Path) -> None:
    setup = operator_setup()
    _, seed = read_creds(setup.write_creds(tmp_path))
    assert isinstance(seed, bytearray)
