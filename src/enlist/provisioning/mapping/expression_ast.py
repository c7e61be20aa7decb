"""The syntax tree of Entra's attribute-mapping expressions, as frozen dataclasses.

`enlist.provisioning.mapping.expression` builds these from text and renders them back. Every
node carries the 0-based `position` where it starts in the text it was parsed from; positions
are left out of equality, so a tree parsed from rendered text equals the original tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Value: TypeAlias = str | bool | int | list[str] | None
"""What an expression evaluates to. Booleans produced by functions are the strings "True" and
"False" (as in Entra); a real `bool` only appears when a source attribute holds one."""

CompareOp: TypeAlias = Literal["=", "<>", ">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class Call:
    """`Name(arg, …)`. `name` is the function's canonical spelling (`Join`, `IIF`)."""

    name: str
    args: tuple[Expression, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class AttributeRef:
    """`[attributeName]`: the source object's attribute, looked up case-insensitively."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """`"text"`; `value` is the decoded text (escapes resolved)."""

    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """A bare integer such as `3` or `-1`."""

    value: int
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Omitted:
    """An argument left empty, as in `Switch([IsSoftDeleted], , "False", "True")`; it is null."""

    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`left op right`, as IIF's condition is written (`[country]="FR"`); `==` is read as `=`."""

    left: Expression
    op: CompareOp
    right: Expression
    position: int = field(default=0, compare=False)


Expression: TypeAlias = Call | AttributeRef | StringLiteral | NumberLiteral | Omitted | Comparison
