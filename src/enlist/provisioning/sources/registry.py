"""Which reader reads each kind of source: a dict kind -> factory.

A kind whose reader is not built yet (a source of that kind can still be added and configured)
is absent, and `reader_for` says so. A new kind plugs in with one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from enlist.provisioning.sources.file import FileSourceReader
from enlist.provisioning.sources.graph import graph_reader
from enlist.provisioning.sources.graph.settings import settings_from_stored
from enlist.provisioning.sources.ldap import settings as ldap_settings
from enlist.provisioning.sources.ldap.reader import ldap_reader
from enlist.provisioning.sources.model import SourceReader


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    """What a factory gets: the source's name, its settings and its secrets, opened."""

    name: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str] = field(default_factory=dict)


ReaderFactory = Callable[[ReaderConfig], SourceReader]


class NoReaderError(LookupError):
    """The kind has no reader on this version of enlist."""


def _file(config: ReaderConfig) -> SourceReader:
    return FileSourceReader(str(config.settings.get("path") or ""))


def _graph(config: ReaderConfig) -> SourceReader:
    return graph_reader(settings_from_stored(config.settings, config.secrets))


def _push(config: ReaderConfig) -> SourceReader:
    raise NoReaderError(
        f"{config.name} is a push source: there is nothing to read, its clients write into it "
        f"(/scim/v2/sources/{config.name}/). `enlist provisioning source test {config.name}` shows its "
        "endpoint, its token and its last push"
    )


def _ldap(config: ReaderConfig) -> SourceReader:
    return ldap_reader(ldap_settings.settings_from_stored(config.settings, config.secrets))


READERS: dict[str, ReaderFactory] = {
    "file": _file,
    "graph": _graph,
    "scim-push": _push,
    "ldap": _ldap,
}


def reader_for(kind: str, config: ReaderConfig) -> SourceReader:
    factory = READERS.get(kind)
    if factory is None:
        raise NoReaderError(
            f"sources of kind {kind!r} have no reader in this version of enlist yet: the source is "
            "stored with its settings, and is read once a reader for its kind is installed"
        )
    return factory(config)
