"""Exit codes and the one-line error report of the ``rxnats`` command line.

Every failure a script should expect ends as one line on stderr,
``rxnats CMD: error: WHAT; hint: WHAT TO DO``, and an exit code from the table below;
no traceback is shown for them. :func:`describe` turns an exception into that line's
parts: :class:`CommandFailed` carries its own, rxnats errors get a hint chosen by type.
"""

from __future__ import annotations

from rxnats.errors import (
    AuthorizationError,
    BadHeaderError,
    BadSubjectError,
    Error,
    InvalidUserCredentialsError,
    MaxConnectionsExceededError,
    MaxPayloadError,
    NoRespondersError,
    NoServersError,
    PermissionsViolationError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    TimeoutError,
)
from rxnats.jetstream.errors import (
    BucketNotFoundError,
    ConsumerNotFoundError,
    KeyNotFoundError,
    ServiceUnavailableError,
    StreamNameAlreadyInUseError,
    StreamNotFoundError,
)
from rxnats.jetstream.object_errors import ObjectNotFoundError

__all__ = [
    "EXIT_CONNECTION",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "CommandFailed",
    "UsageError",
    "describe",
    "one_line",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_CONNECTION = 4
EXIT_INTERRUPTED = 130

_CONNECTION_ERRORS = (
    NoServersError,
    AuthorizationError,
    MaxConnectionsExceededError,
    SecureConnRequiredError,
    SecureConnWantedError,
    SecureConnFailedError,
)


class CommandFailed(Exception):
    """An expected failure of a command: ``message`` and ``hint`` are shown, ``code`` exits."""

    def __init__(self, message: str, code: int = EXIT_ERROR, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


class UsageError(CommandFailed):
    """Bad arguments (exit code 2); ``prog`` names the command whose ``--help`` explains them."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message, EXIT_USAGE, hint=f"see '{prog} --help'")
        self.prog = prog


def one_line(text: str) -> str:
    """``text`` with its lines joined by ``; `` and runs of blanks squeezed."""
    parts = [" ".join(line.split()) for line in text.splitlines()]
    return "; ".join(part for part in parts if part)


def _hint_for(exc: BaseException) -> str | None:
    """What to try next after ``exc`` (None when nothing useful can be said)."""
    match exc:
        case NoServersError():
            return "is a server running there? start one with 'rxnats server', or pass --server URL"
        case AuthorizationError():
            return "check --user/--password, --token, --creds or --nkey (or the context in use)"
        case SecureConnRequiredError():
            return "the server requires TLS: use a tls:// URL or --tlsca FILE"
        case SecureConnWantedError():
            return "the server offers no TLS: use a nats:// URL without the TLS options"
        case SecureConnFailedError():
            return "check --tlsca (the CA that signed the server) and --tlscert/--tlskey"
        case InvalidUserCredentialsError():
            return "check the file given to --creds/--nkey (or the context's creds/nkey)"
        case NoRespondersError():
            return "nothing subscribes to that subject: start a service, e.g. 'rxnats reply SUBJECT'"
        case TimeoutError():
            return "the other side did not answer in time: raise --timeout (e.g. --timeout 10s)"
        case BadSubjectError():
            return "subjects are dot-separated tokens without spaces; wildcards (* >) only to subscribe"
        case BadHeaderError():
            return "header names are printable ASCII without ':' or spaces"
        case MaxPayloadError():
            return "the message is larger than the server accepts ('rxnats server info' shows its max payload)"
        case PermissionsViolationError():
            return "the user lacks permission for that subject (see the server's authorization)"
        case ServiceUnavailableError():
            return "JetStream is off on that server: 'rxnats server' enables it, as does nats-server -js"
        case StreamNotFoundError():
            return "'rxnats stream ls' lists the streams"
        case ConsumerNotFoundError():
            return "'rxnats consumer ls STREAM' lists the consumers"
        case StreamNameAlreadyInUseError():
            return "a stream of that name exists with another configuration: see 'rxnats stream info NAME'"
        case BucketNotFoundError():
            return "'rxnats kv ls' / 'rxnats object ls' list the buckets"
        case KeyNotFoundError():
            return "'rxnats kv ls BUCKET' lists the keys"
        case ObjectNotFoundError():
            return "'rxnats object ls BUCKET' lists the objects"
        case FileNotFoundError() | IsADirectoryError() | PermissionError():
            return "check the path"
    return None


def describe(exc: BaseException) -> tuple[int, str, str | None]:
    """The exit code, one-line message and hint for an expected failure ``exc``."""
    if isinstance(exc, CommandFailed):
        return exc.code, one_line(str(exc)), exc.hint
    if isinstance(exc, TimeoutError | NoRespondersError):
        code = EXIT_TIMEOUT
    elif isinstance(exc, _CONNECTION_ERRORS):
        code = EXIT_CONNECTION
    else:
        code = EXIT_ERROR
    if isinstance(exc, Error):
        message = str(exc) or type(exc).__name__
    elif isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        message = f"{exc.strerror}{where}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return code, one_line(message), _hint_for(exc)
