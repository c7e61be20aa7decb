"""The Graph reader's errors: every one a `SourceUnavailableError` whose message says what to fix."""

from __future__ import annotations

from enlist.provisioning.sources.model import SourceUnavailableError


class CredentialsError(SourceUnavailableError):
    """The token endpoint refused the app's credential (a bad secret, an unknown certificate)."""


class PermissionMissingError(SourceUnavailableError):
    """Graph answered 403: the app lacks an application permission, or admin consent."""

    def __init__(self, message: str, permission: str) -> None:
        super().__init__(message)
        self.permission = permission


class UnreachableError(SourceUnavailableError):
    """No answer from the login endpoint or Graph (connection refused, reset, timed out)."""


class GraphHTTPError(SourceUnavailableError):
    """Graph answered an error that retries did not cure; `code` is Graph's error code."""

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
