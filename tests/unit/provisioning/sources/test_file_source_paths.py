"""A file source's folder that the system cannot use (a name longer than the system allows) is
refused with a message when the source is added, and reported as
unavailable when it is read: never an OSError out of a page (the route fuzzer found a 500 on
the Add source form with a 5,000-character path)."""

from __future__ import annotations

import pytest

from enlist.provisioning.sources.file import FileSourceReader
from enlist.provisioning.sources.operations import new_source_settings


@pytest.mark.parametrize("name", ["x" * 5000, "/tmp/" + "y" * 300])
def test_a_folder_the_system_cannot_use_is_refused_with_a_message(name: str) -> None:
    with pytest.raises(ValueError, match="--path cannot be used as a folder"):
        new_source_settings("file", path=name)


async def test_reading_a_folder_whose_name_is_too_long_reports_the_source_unavailable() -> None:
    result = await FileSourceReader("x" * 5000).check()
    assert not result.ok
    assert "not a folder this process can read" in result.message
