"""The ``nats`` CLI's configuration contexts, read and written in its own files.

A context is a named set of connection settings. The ``nats`` CLI keeps each one in
``$XDG_CONFIG_HOME/nats/context/NAME.json`` (``~/.config`` when the variable is unset)
and the name of the selected one in ``.../nats/context.txt``; ``rxnats`` uses the same
files, so contexts made by either tool work in both. The JSON object has one key per
setting (``url``, ``user``, ``password``, ``token``, ``creds``, ``nkey``, ``cert``,
``key``, ``ca``, ``jetstream_domain``, ``inbox_prefix``, ``user_jwt``, ``user_seed``,
``tls_first``, ...; see :data:`CONTEXT_KEYS`); ``nats`` writes every key, empty ones
included, and so does :meth:`ContextStore.save`. Keys this module does not know are kept
when a context is rewritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rxnats.cli.errors import CommandFailed

__all__ = ["CONTEXT_KEYS", "ContextStore", "NatsContext", "validate_name"]

#: The keys of a context file, in the order the ``nats`` CLI writes them.
CONTEXT_KEYS: tuple[str, ...] = (
    "description",
    "url",
    "socks_proxy",
    "token",
    "user",
    "password",
    "creds",
    "nkey",
    "cert",
    "key",
    "ca",
    "nsc",
    "jetstream_domain",
    "jetstream_api_prefix",
    "jetstream_event_prefix",
    "inbox_prefix",
    "user_jwt",
    "user_seed",
    "color_scheme",
    "tls_first",
    "windows_cert_store",
    "windows_cert_match_by",
    "windows_cert_match",
    "windows_ca_certs_match",
)
_SECRETS = frozenset({"password", "token", "user_seed", "user_jwt"})


def validate_name(name: str) -> str:
    """Return ``name`` if it can name a context file (as ``nats`` checks it).

    Raises:
        CommandFailed: empty, or holds ``..``, ``/`` or ``\\``.
    """
    if not name or ".." in name or "/" in name or "\\" in name:
        raise CommandFailed(
            f"invalid context name {name!r}",
            hint="a context name is not empty and has no '..', '/' or '\\'",
        )
    return name


@dataclass
class NatsContext:
    """One context: its name, the file it lives in, and its settings as read."""

    name: str
    path: Path
    values: dict[str, object] = field(default_factory=dict)

    def text(self, key: str) -> str:
        """The setting ``key`` as a string (``""`` when absent or not a string)."""
        value = self.values.get(key)
        return value if isinstance(value, str) else ""

    def flag(self, key: str) -> bool:
        """The boolean setting ``key``."""
        return self.values.get(key) is True

    @property
    def description(self) -> str:
        """The context's description."""
        return self.text("description")

    def as_file(self) -> dict[str, object]:
        """The JSON object written to the file: every known key, then the unknown ones."""
        out: dict[str, object] = {}
        for key in CONTEXT_KEYS:
            default: object = False if key == "tls_first" else None if key == "windows_ca_certs_match" else ""
            out[key] = self.values.get(key, default)
        out.update((k, v) for k, v in self.values.items() if k not in out)
        return out

    def redacted(self) -> dict[str, object]:
        """The non-empty settings, secrets replaced by ``*****``."""
        return {
            key: "*****" if key in _SECRETS else value
            for key, value in self.as_file().items()
            if value not in ("", None, False, [])
        }


class ContextStore:
    """The context files under one configuration directory (``$XDG_CONFIG_HOME/nats``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> ContextStore:
        """The store the ``nats`` CLI uses: ``$XDG_CONFIG_HOME/nats`` or ``~/.config/nats``."""
        env = os.environ if environ is None else environ
        base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return cls(Path(base) / "nats")

    @property
    def directory(self) -> Path:
        """Where the ``NAME.json`` files are."""
        return self.root / "context"

    @property
    def selection_file(self) -> Path:
        """The file naming the selected context."""
        return self.root / "context.txt"

    def path(self, name: str) -> Path:
        """The file of context ``name``."""
        return self.directory / f"{validate_name(name)}.json"

    def names(self) -> list[str]:
        """The known contexts, sorted (empty files are skipped, as ``nats`` does)."""
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return []
        found = []
        for entry in entries:
            if entry.suffix != ".json" or not entry.is_file() or entry.stat().st_size == 0:
                continue
            if ".." not in entry.stem and "\\" not in entry.stem:
                found.append(entry.stem)
        return sorted(found)

    def exists(self, name: str) -> bool:
        """Whether context ``name`` has a file."""
        return self.path(name).is_file()

    def selected(self) -> str | None:
        """The selected context's name, or None."""
        try:
            name = self.selection_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name or None

    def load(self, ref: str) -> NatsContext:
        """Read context ``ref``: a name, or the path of a ``.json`` file (as ``nats`` allows).

        Raises:
            CommandFailed: unknown context, unreadable file, or not a JSON object.
        """
        if ref.endswith(".json") and Path(ref).expanduser().is_file():
            path = Path(ref).expanduser()
            name = path.stem
        else:
            name = validate_name(ref)
            path = self.path(name)
            if not path.is_file():
                raise CommandFailed(
                    f"unknown context {name!r} (no {path})",
                    hint="'rxnats context ls' lists the contexts; 'rxnats context add NAME' makes one",
                )
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "{}")
        except OSError as exc:
            raise CommandFailed(f"cannot read context {name!r}: {exc.strerror}: {path}") from None
        except ValueError as exc:
            raise CommandFailed(
                f"context {name!r} is not valid JSON ({exc}): {path}",
                hint=f"fix or remove {path}",
            ) from None
        if not isinstance(data, dict):
            raise CommandFailed(f"context {name!r} is not a JSON object: {path}", hint=f"fix or remove {path}")
        return NatsContext(name, path, data)

    def save(self, context: NatsContext) -> Path:
        """Write ``context`` to its file (atomically, mode 0600, directory 0700)."""
        path = self.path(context.name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(path, json.dumps(context.as_file(), indent=2) + "\n")
        context.path = path
        return path

    def select(self, name: str) -> str | None:
        """Make ``name`` the selected context; return the one selected before.

        Raises:
            CommandFailed: no such context.
        """
        if not self.exists(name):
            raise CommandFailed(
                f"unknown context {name!r}", hint="'rxnats context ls' lists the contexts"
            )
        previous = self.selected()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(self.selection_file, name)
        if previous and previous != name:
            _write_private(self.root / "previous-context.txt", previous)
        return previous

    def unselect(self) -> None:
        """Select no context."""
        self.selection_file.unlink(missing_ok=True)

    def remove(self, name: str) -> None:
        """Delete context ``name`` (the selected one cannot be deleted, as in ``nats``).

        Raises:
            CommandFailed: no such context, or it is the selected one.
        """
        if not self.exists(name):
            raise CommandFailed(f"unknown context {name!r}", hint="'rxnats context ls' lists the contexts")
        if self.selected() == name:
            raise CommandFailed(
                f"context {name!r} is selected and cannot be removed",
                hint="select another one first ('rxnats context select OTHER')",
            )
        self.path(name).unlink()


def _write_private(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
