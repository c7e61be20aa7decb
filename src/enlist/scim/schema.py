"""The RFC 7643 schemas enlist serves, declared as data, and lookups of attribute paths in them.

`USER_SCHEMA` (§4.1), `ENTERPRISE_USER_SCHEMA` (§4.3) and `GROUP_SCHEMA` (§4.2) are the complete
RFC definitions (as in the §8.7.1 representation); `COMMON_ATTRIBUTES` are `id`, `externalId`
and `meta` (§3.1), which belong to every resource but to no schema. `schema_document` renders a
schema as `/Schemas/{id}` returns it (camelCase, no nulls, without `meta`). `resolve` finds the
attribute an `AttrPath` names, case-insensitively, in a resource's core schema, its extensions
and the common attributes; it returns None for anything it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from enlist.scim.filter_ast import AttrPath

AttributeType: TypeAlias = Literal[
    "string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"
]
Mutability: TypeAlias = Literal["readOnly", "readWrite", "immutable", "writeOnly"]
Returned: TypeAlias = Literal["always", "never", "default", "request"]
Uniqueness: TypeAlias = Literal["none", "server", "global"]
ResourceName: TypeAlias = Literal["User", "Group"]

SCHEMA_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP_SCHEMA_ID = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition (RFC 7643 §7); `sub_attributes` only for `type == "complex"`."""

    name: str
    type: AttributeType = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: Mutability = "readWrite"
    returned: Returned = "default"
    uniqueness: Uniqueness = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called `name`, compared case-insensitively, or None."""
        folded = name.lower()
        return next((a for a in self.sub_attributes if a.name.lower() == folded), None)


@dataclass(frozen=True, slots=True)
class Schema:
    """A schema: its URN `id`, a `name`, a `description` and its top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        """The top-level attribute called `name`, compared case-insensitively, or None."""
        folded = name.lower()
        return next((a for a in self.attributes if a.name.lower() == folded), None)


@dataclass(frozen=True, slots=True)
class ResolvedAttribute:
    """What an `AttrPath` names: the schema holding it, the attribute and maybe its sub-attribute.

    `schema_id` is the core schema's id for the common attributes (`id`, `externalId`, `meta`).
    """

    schema_id: str
    attribute: Attribute
    sub_attribute: Attribute | None = None

    @property
    def is_extension(self) -> bool:
        """True when the attribute lives under its schema's URN key in a document."""
        return self.schema_id in EXTENSION_SCHEMA_IDS


def _string(name: str, description: str, **kwargs: Any) -> Attribute:
    return Attribute(name=name, type="string", description=description, **kwargs)


def _ref(name: str, types: tuple[str, ...], description: str, **kwargs: Any) -> Attribute:
    return Attribute(
        name=name, type="reference", case_exact=True, reference_types=types, description=description, **kwargs
    )


def _multi(name: str, description: str, value: Attribute, types: tuple[str, ...] = ()) -> Attribute:
    """A multi-valued complex attribute with the §2.4 `value`, `display`, `type`, `primary` subs."""
    return Attribute(
        name=name,
        type="complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            value,
            _string("display", "A human-readable name, primarily used for display purposes."),
            _string("type", "A label indicating the attribute's function.", canonical_values=types),
            Attribute("primary", "boolean", description="The preferred value; true at most once."),
        ),
    )


_NAME = Attribute(
    name="name",
    type="complex",
    description="The components of the user's real name.",
    sub_attributes=(
        _string("formatted", "The full name, formatted for display."),
        _string("familyName", "The family name of the User, or last name."),
        _string("givenName", "The given name of the User, or first name."),
        _string("middleName", "The middle name(s) of the User."),
        _string("honorificPrefix", "The honorific prefix(es) of the User, e.g. 'Ms.'."),
        _string("honorificSuffix", "The honorific suffix(es) of the User, e.g. 'III'."),
    ),
)

_ADDRESSES = Attribute(
    name="addresses",
    type="complex",
    multi_valued=True,
    description="A physical mailing address for this User.",
    sub_attributes=(
        _string("formatted", "The full mailing address, formatted for display."),
        _string("streetAddress", "The full street address component."),
        _string("locality", "The city or locality component."),
        _string("region", "The state or region component."),
        _string("postalCode", "The zip code or postal code component."),
        _string("country", "The country name component."),
        _string(
            "type", "A label indicating the attribute's function.", canonical_values=("work", "home", "other")
        ),
        Attribute("primary", "boolean", description="The preferred value; true at most once."),
    ),
)

_GROUPS = Attribute(
    name="groups",
    type="complex",
    multi_valued=True,
    mutability="readOnly",
    description="The groups to which the user belongs (maintained by the service provider).",
    sub_attributes=(
        _string("value", "The identifier of the User's group.", case_exact=True, mutability="readOnly"),
        _ref("$ref", ("Group",), "The URI of the corresponding 'Group' resource.", mutability="readOnly"),
        _string(
            "display", "A human-readable name, primarily used for display purposes.", mutability="readOnly"
        ),
        _string(
            "type",
            "A label indicating the membership, 'direct' or 'indirect'.",
            mutability="readOnly",
            canonical_values=("direct", "indirect"),
        ),
    ),
)

USER_SCHEMA = Schema(
    id=USER_SCHEMA_ID,
    name="User",
    description="User Account",
    attributes=(
        _string(
            "userName",
            "Unique identifier for the User, typically used to authenticate. REQUIRED.",
            required=True,
            uniqueness="server",
        ),
        _NAME,
        _string("displayName", "The name of the User, suitable for display to end-users."),
        _string("nickName", "The casual way to address the user in real life."),
        _ref("profileUrl", ("external",), "A fully qualified URL pointing to the User's online profile."),
        _string("title", "The user's title, such as 'Vice President'."),
        _string("userType", "The relationship between the organization and the user."),
        _string("preferredLanguage", "The User's preferred written or spoken language."),
        _string("locale", "The User's default location for localizing currency, dates and numbers."),
        _string("timezone", "The User's time zone in the 'Olson' format, e.g. 'America/Los_Angeles'."),
        Attribute("active", "boolean", description="The User's administrative status."),
        _string(
            "password",
            "The User's cleartext password, to set an initial password or reset it.",
            case_exact=True,
            mutability="writeOnly",
            returned="never",
        ),
        _multi(
            "emails",
            "Email addresses for the user.",
            _string("value", "An email address for the user."),
            ("work", "home", "other"),
        ),
        _multi(
            "phoneNumbers",
            "Phone numbers for the User.",
            _string("value", "Phone number of the User."),
            ("work", "home", "mobile", "fax", "pager", "other"),
        ),
        _multi(
            "ims",
            "Instant messaging addresses for the User.",
            _string("value", "Instant messaging address for the User."),
            ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
        ),
        _multi(
            "photos",
            "URLs of photos of the User.",
            _ref("value", ("external",), "URL of a photo of the User."),
            ("photo", "thumbnail"),
        ),
        _ADDRESSES,
        _GROUPS,
        _multi(
            "entitlements",
            "A list of entitlements for the User that represent a thing the User has.",
            _string("value", "The value of an entitlement."),
        ),
        _multi(
            "roles",
            "A list of roles for the User that collectively represent who the User is.",
            _string("value", "The value of a role."),
        ),
        _multi(
            "x509Certificates",
            "A list of certificates issued to the User.",
            Attribute("value", "binary", case_exact=True, description="The value of an X.509 certificate."),
        ),
    ),
)

ENTERPRISE_USER_SCHEMA = Schema(
    id=ENTERPRISE_USER_SCHEMA_ID,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _string("employeeNumber", "Identifier assigned to a person, typically based on order of hire."),
        _string("costCenter", "Identifies the name of a cost center."),
        _string("organization", "Identifies the name of an organization."),
        _string("division", "Identifies the name of a division."),
        _string("department", "Identifies the name of a department."),
        Attribute(
            name="manager",
            type="complex",
            description="The User's manager, a reference to the 'id' of another User.",
            sub_attributes=(
                _string(
                    "value", "The id of the SCIM resource representing the User's manager.", case_exact=True
                ),
                _ref("$ref", ("User",), "The URI of the SCIM resource representing the User's manager."),
                _string("displayName", "The displayName of the User's manager.", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_SCHEMA = Schema(
    id=GROUP_SCHEMA_ID,
    name="Group",
    description="Group",
    attributes=(
        _string("displayName", "A human-readable name for the Group. REQUIRED.", required=True),
        Attribute(
            name="members",
            type="complex",
            multi_valued=True,
            description="A list of members of the Group.",
            sub_attributes=(
                _string(
                    "value",
                    "Identifier of the member of this Group.",
                    case_exact=True,
                    mutability="immutable",
                ),
                _ref(
                    "$ref",
                    ("User", "Group"),
                    "The URI of the SCIM resource that is a member of this Group.",
                    mutability="immutable",
                ),
                _string(
                    "type",
                    "The type of the member resource, 'User' or 'Group'.",
                    mutability="immutable",
                    canonical_values=("User", "Group"),
                ),
                _string("display", "A human-readable name for the group member."),
            ),
        ),
    ),
)

COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    _string(
        "id",
        "A unique identifier for the resource, assigned by the service provider.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    _string(
        "externalId", "An identifier for the resource as defined by the provisioning client.", case_exact=True
    ),
    Attribute(
        name="meta",
        type="complex",
        mutability="readOnly",
        description="Resource metadata maintained by the service provider.",
        sub_attributes=(
            _string("resourceType", "The name of the resource type.", case_exact=True, mutability="readOnly"),
            Attribute("created", "dateTime", mutability="readOnly", description="When it was added."),
            Attribute("lastModified", "dateTime", mutability="readOnly", description="When it last changed."),
            _ref("location", (), "The URI of the resource.", mutability="readOnly"),
            _string("version", "The version (ETag) of the resource.", case_exact=True, mutability="readOnly"),
        ),
    ),
)

RESOURCE_SCHEMAS: dict[ResourceName, tuple[Schema, ...]] = {
    "User": (USER_SCHEMA, ENTERPRISE_USER_SCHEMA),
    "Group": (GROUP_SCHEMA,),
}
"""Each resource type's core schema first, then its extensions."""

EXTENSION_SCHEMA_IDS = frozenset({ENTERPRISE_USER_SCHEMA_ID})


def schema_by_id(schema_id: str, resource: ResourceName) -> Schema | None:
    """The core or extension schema of `resource` whose id equals `schema_id` case-insensitively."""
    folded = schema_id.lower()
    return next((s for s in RESOURCE_SCHEMAS[resource] if s.id.lower() == folded), None)


def resolve(path: AttrPath, resource: ResourceName) -> ResolvedAttribute | None:
    """The attribute `path` names in `resource`'s schemas, or None when it names nothing known.

    Names are compared case-insensitively. An unqualified path is looked up in the common
    attributes, then the core schema, then each extension (so `manager` finds the enterprise
    `manager`); a URN-qualified one only in that schema (the core URN also reaches the common
    attributes). A `sub` that the attribute does not have, or a `sub` on a simple attribute,
    gives None.
    """
    core = RESOURCE_SCHEMAS[resource][0]
    if path.schema is None:
        candidates: list[tuple[str, Attribute | None]] = [(core.id, common_attribute(path.name))]
        candidates += [(s.id, s.attribute(path.name)) for s in RESOURCE_SCHEMAS[resource]]
    else:
        schema = schema_by_id(path.schema, resource)
        if schema is None:
            return None
        candidates = [(schema.id, schema.attribute(path.name))]
        if schema is core:
            candidates.insert(0, (core.id, common_attribute(path.name)))
    for schema_id, attribute in candidates:
        if attribute is None:
            continue
        if path.sub is None:
            return ResolvedAttribute(schema_id, attribute)
        sub = attribute.sub(path.sub)
        return None if sub is None else ResolvedAttribute(schema_id, attribute, sub)
    return None


def common_attribute(name: str) -> Attribute | None:
    """`id`, `externalId` or `meta`, by name in any case; None for any other name."""
    folded = name.lower()
    return next((a for a in COMMON_ATTRIBUTES if a.name.lower() == folded), None)


def attribute_document(attribute: Attribute) -> dict[str, Any]:
    """One attribute in the RFC 7643 §7 representation: camelCase keys, no nulls."""
    doc: dict[str, Any] = {
        "name": attribute.name,
        "type": attribute.type,
        "multiValued": attribute.multi_valued,
        "description": attribute.description,
        "required": attribute.required,
    }
    if attribute.canonical_values:
        doc["canonicalValues"] = list(attribute.canonical_values)
    if attribute.type != "complex":
        doc["caseExact"] = attribute.case_exact
    doc["mutability"] = attribute.mutability
    doc["returned"] = attribute.returned
    if attribute.type != "complex":
        doc["uniqueness"] = attribute.uniqueness
    if attribute.reference_types:
        doc["referenceTypes"] = list(attribute.reference_types)
    if attribute.sub_attributes:
        doc["subAttributes"] = [attribute_document(a) for a in attribute.sub_attributes]
    return doc


def schema_document(schema: Schema) -> dict[str, Any]:
    """The `/Schemas/{id}` representation of `schema` (RFC 7643 §7), without `meta`."""
    return {
        "schemas": [SCHEMA_SCHEMA_ID],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": [attribute_document(a) for a in schema.attributes],
    }
