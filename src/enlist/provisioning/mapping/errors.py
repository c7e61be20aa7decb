"""The mapping package's errors: one family, all `ValueError`s, each saying where and what.

- `ExpressionError`: expression text that does not parse (`position` is the 0-based offset).
- `EvaluationError`: a parsed expression that cannot be evaluated for one object (a `Mid` start
  that is not a number, a multi-valued attribute where one value is needed). A per-object
  failure: the engine logs it against that object and carries on with the others.
  `RegexTimeoutError`, one kind of it: a regular expression that ran past its time limit.
- `MappingError`: an attribute mapping that is invalid (its expression or target path does not
  parse), or one that fails for one object in `map_object`. `target` names the mapping and
  `position` the offending offset in its expression, when there is one.
- `ScopingError`: a scoping filter that is invalid (unknown operator, bad regex, a non-integer
  value for an integer operator) or malformed JSON for one.
"""

from __future__ import annotations


class MappingPackageError(ValueError):
    """Base of every error this package raises."""


class ExpressionError(MappingPackageError):
    """Expression text that does not parse.

    `position` is the 0-based offset of the offending character (the length of the text when it
    ended too early); the message says what was expected there and repeats the offset.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class EvaluationError(MappingPackageError):
    """A parsed expression that cannot be evaluated against one source object."""


class RegexTimeoutError(EvaluationError):
    """A regular expression (scoping filter or expression function) stopped at its time limit."""


class MappingError(MappingPackageError):
    """An invalid attribute mapping, or one that fails for one object.

    `target` is the mapping's target path; `position` the offset in its expression text when
    the cause is an expression parse error, else None.
    """

    def __init__(self, message: str, *, target: str = "", position: int | None = None) -> None:
        super().__init__(message)
        self.target = target
        self.position = position


class ScopingError(MappingPackageError):
    """An invalid scoping filter or clause; the message names the clause part at fault."""
