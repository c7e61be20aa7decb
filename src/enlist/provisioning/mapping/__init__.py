"""Attribute mappings, the expression language and scoping filters: pure functions.

What Entra ID's provisioning engine does between reading a source object and writing it to the
target, without I/O:

- `source`: the dict every other module reads for one object: Graph attributes, Entra's
  connector names for them (`telephoneNumber`, `objectId`…) and the computed `IsSoftDeleted`.
- `scoping`: scoping filters (`in_scope`, `explain`): is this object provisioned at all?
- `expression`: Entra's expression language (`parse_expression`, `evaluate`, `render`), with
  its functions in `functions`, `replace` and `text_functions`, and .NET regexes in `dotnet_regex`.
- `mappings`: attribute mappings (`AttributeMapping`, `ObjectMapping`, Entra's defaults,
  `map_object`), and `document`: the nested SCIM body built from the flat mapped values.
- `errors`: the package's `ValueError`s (`ExpressionError`, `EvaluationError`, `MappingError`,
  `ScopingError`).

Submodules are imported by name; importing the package itself does nothing.
"""
