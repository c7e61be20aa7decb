"""Sample directories: a realistic company for the demo and the tests, and big ones for benchmarks.

Both are deterministic for a given seed, ids included, so importing the same sample twice (or
on two machines) gives the same objects.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from typing import Any

from enlist.provisioning.directory.files import DirectoryFile, GroupEntry, UserEntry

DOMAIN = "northwind.example"

GIVEN_NAMES = (
    "Adele", "Alex", "Amara", "Ana María", "Ben", "Björn", "Camille", "Carlos", "Chen", "Chloé",
    "Dara", "David", "Deepa", "Diego", "Elif", "Emma", "Fatima", "François", "Grace", "Hannah",
    "Hiro", "Ines", "Isaac", "Jana", "Jonas", "José", "Kai", "Kenji", "Lars", "Leila", "Liam",
    "Lucía", "Łukasz", "Mai", "Marta", "Mateo", "Mei", "Mohammed", "Nadia", "Nikos", "Noah",
    "Olivia", "Omar", "Priya", "Rafael", "Renée", "Ruth", "Sakura", "Samuel", "Sofia", "Søren",
    "Tariq", "Thandi", "Tomás", "Uma", "Viktor", "Wei", "Yara", "Yusuf", "Zoë",
)  # fmt: skip
SURNAMES = (
    "Abara", "Andersen", "Bauer", "Becker", "Brown", "Castro", "Chen", "Costa", "Dubois", "Eriksson",
    "Fischer", "García", "Gómez", "Haddad", "Hansen", "Ito", "Jansen", "Kim", "Kowalski", "Kumar",
    "Larsen", "Lefèvre", "López", "Martin", "Müller", "Nakamura", "Nguyen", "Novák", "Okafor",
    "O'Brien", "Papadopoulos", "Patel", "Pereira", "Petrov", "Rossi", "Santos", "Schmidt", "Singh",
    "Smith", "Sørensen", "Suzuki", "Tanaka", "Taylor", "Van der Berg", "Wagner", "Wang", "Weber",
    "Williams", "Yilmaz", "Zhang",
)  # fmt: skip

# department: (head's title, managers' title, staff titles)
DEPARTMENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Engineering": (
        "VP of Engineering",
        "Engineering Manager",
        ("Software Engineer", "Senior Software Engineer", "Site Reliability Engineer", "QA Engineer"),
    ),
    "Product": (
        "VP of Product",
        "Group Product Manager",
        ("Product Manager", "Product Designer", "UX Researcher"),
    ),
    "Sales": ("VP of Sales", "Sales Manager", ("Account Executive", "Sales Development Representative")),
    "Marketing": (
        "CMO",
        "Marketing Manager",
        ("Content Strategist", "Marketing Specialist", "Brand Designer"),
    ),
    "Finance": ("CFO", "Finance Manager", ("Accountant", "Financial Analyst", "Payroll Specialist")),
    "Human Resources": (
        "CHRO",
        "HR Manager",
        ("HR Business Partner", "Recruiter", "People Operations Specialist"),
    ),
    "Customer Support": (
        "VP of Customer Support",
        "Support Manager",
        ("Support Engineer", "Customer Success Manager"),
    ),
}

# city, state, postal code, country, street, language, phone prefix
OFFICES = (
    ("Seattle", "WA", "98101", "US", "1200 Pine Street", "en-US", "+1 206 555"),
    ("New York", "NY", "10001", "US", "350 Fifth Avenue", "en-US", "+1 212 555"),
    ("London", "England", "EC2A 4NE", "GB", "10 Finsbury Square", "en-GB", "+44 20 7946"),
    ("Berlin", "Berlin", "10117", "DE", "Friedrichstraße 68", "de-DE", "+49 30 901820"),
    ("Paris", "Île-de-France", "75008", "FR", "35 Rue de la Boétie", "fr-FR", "+33 1 7036"),
)

NESTED_PARENT = "Product & Engineering"
INTEREST_GROUPS = ("Project Apollo", "Security Champions", "Mentors", "Green Team", "Hackathon Crew")


_UNDECOMPOSABLE = str.maketrans("łŁøØ", "lLoO")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c == "-")).lower()


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _group_names(count: int) -> list[str]:
    """Department groups first (Engineering and Product, then their parent), then the others."""
    departments = list(DEPARTMENTS)
    names = [departments[0], departments[1], NESTED_PARENT, *departments[2:], "Managers", *INTEREST_GROUPS]
    names += [f"Project Team {i}" for i in range(1, count - len(names) + 1)]
    return names[:count]


def sample_directory(users: int = 300, groups: int = 12, seed: int = 7) -> DirectoryFile:
    """A company of `users` people: a CEO, a head per department, managers and staff (managers
    form one tree under the CEO), offices in five countries, a few disabled accounts, names with
    diacritics; `groups` groups with every user in 1 to 3 of them, and (with 3 groups or more)
    Engineering and Product nested in "Product & Engineering"."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    people: list[dict[str, Any]] = []
    upns: set[str] = set()
    for _ in range(users):
        given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
        alias = f"{_ascii(given)}.{_ascii(surname)}"
        number = 1
        while f"{alias}@{DOMAIN}" in upns:
            number += 1
            alias = f"{_ascii(given)}.{_ascii(surname)}{number}"
        upns.add(f"{alias}@{DOMAIN}")
        people.append({"givenName": given, "surname": surname, "alias": alias})

    departments = list(DEPARTMENTS)
    roles: list[tuple[str, str, str | None]] = []
    if users:
        roles.append(("Executive", "Chief Executive Officer", "ceo"))
    heads: dict[str, int] = {}
    for i in range(1, users):
        department = (
            departments[(i - 1) % len(departments)] if i <= len(departments) else rng.choice(departments)
        )
        head_title, manager_title, staff_titles = DEPARTMENTS[department]
        if department not in heads:
            heads[department] = i
            roles.append((department, head_title, "head"))
        elif rng.random() < 0.12:
            roles.append((department, manager_title, "manager"))
        else:
            roles.append((department, rng.choice(staff_titles), None))
    managers_of: dict[str, list[int]] = {d: [heads[d]] for d in heads}
    entries: list[UserEntry] = []
    staff = [i for i, (_, _, level) in enumerate(roles) if level is None]
    disabled = set(rng.sample(staff, min(len(staff), max(1, users // 100))))
    for i, person in enumerate(people):
        department, title, level = roles[i]
        if i == 0:
            manager = None
        elif level == "head":
            manager = 0
        elif level == "manager":
            manager = heads[department]
            managers_of[department].append(i)
        else:
            manager = rng.choice(managers_of[department])
        city, state, postal, country, street, language, phone = OFFICES[rng.randrange(len(OFFICES))]
        upn = f"{person['alias']}@{DOMAIN}"
        attributes = {
            "userPrincipalName": upn,
            "mail": upn,
            "mailNickname": person["alias"],
            "givenName": person["givenName"],
            "surname": person["surname"],
            "displayName": f"{person['givenName']} {person['surname']}",
            "jobTitle": title,
            "department": department,
            "employeeId": f"E{10001 + i}",
            "businessPhones": [f"{phone} {1000 + i:04d}"],
            "mobilePhone": f"{phone} {rng.randrange(2000, 9999):04d}",
            "officeLocation": f"{city} {rng.randrange(1, 6)}.{rng.randrange(1, 40):02d}",
            "streetAddress": street,
            "city": city,
            "state": state,
            "postalCode": postal,
            "country": country,
            "usageLocation": country,
            "preferredLanguage": language,
            "accountEnabled": i not in disabled,
        }
        manager_upn = None if manager is None else f"{people[manager]['alias']}@{DOMAIN}"
        entries.append(UserEntry(attributes, _id(rng), manager_upn, f"users[{i}]"))

    return DirectoryFile(tuple(entries), tuple(_sample_groups(rng, entries, roles, groups)))


def _sample_groups(
    rng: random.Random, users: list[UserEntry], roles: list[tuple[str, str, str | None]], count: int
) -> list[GroupEntry]:
    names = _group_names(count)
    members: dict[str, list[str]] = {name: [] for name in names}
    extras = [n for n in names if n not in DEPARTMENTS and n not in {NESTED_PARENT, "Managers"}]
    for user, (department, _, level) in zip(users, roles, strict=True):
        mine: list[str] = []
        if department in members:
            mine.append(department)
        if level is not None and "Managers" in members:
            mine.append("Managers")
        for extra in rng.sample(extras, min(len(extras), rng.choice((0, 0, 1, 1, 2)))):
            if len(mine) < 3:
                mine.append(extra)
        if not mine and names:
            mine.append(extras[0] if extras else names[0])
        for name in mine:
            members[name].append(user.upn)
    entries = []
    for j, name in enumerate(names):
        nested = tuple(n for n in list(DEPARTMENTS)[:2] if n in members) if name == NESTED_PARENT else ()
        if name in DEPARTMENTS:
            description = f"Everyone in {name}"
        elif name == NESTED_PARENT:
            description = "Engineering and Product, as nested groups"
        else:
            description = f"Members of {name}"
        attributes = {
            "displayName": name,
            "description": description,
            "securityEnabled": True,
            "mailEnabled": False,
        }
        entries.append(GroupEntry(attributes, _id(rng), tuple(members[name]), nested, f"groups[{j}]"))
    return entries


def generate_large(users: int, groups: int, memberships: int, seed: int = 1) -> DirectoryFile:
    """A big directory for benchmarks, built fast: `users` users in a 10-ary manager tree,
    `groups` groups sharing about `memberships` direct user memberships (no nesting)."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    departments = list(DEPARTMENTS)
    entries = []
    for i in range(users):
        upn = f"user{i:06d}@{DOMAIN}"
        given, surname = GIVEN_NAMES[i % len(GIVEN_NAMES)], SURNAMES[(i // len(GIVEN_NAMES)) % len(SURNAMES)]
        attributes = {
            "userPrincipalName": upn,
            "mail": upn,
            "mailNickname": f"user{i:06d}",
            "givenName": given,
            "surname": surname,
            "displayName": f"{given} {surname}",
            "jobTitle": "Employee",
            "department": departments[i % len(departments)],
            "employeeId": f"E{i:06d}",
            "accountEnabled": True,
        }
        manager = None if i == 0 else f"user{(i - 1) // 10:06d}@{DOMAIN}"
        entries.append(UserEntry(attributes, _id(rng), manager, f"users[{i}]"))
    group_entries = []
    per_group, extra = divmod(min(memberships, users * groups), groups) if groups else (0, 0)
    for j in range(groups):
        size = per_group + (1 if j < extra else 0)
        chosen = sorted(rng.sample(range(users), size))
        attributes = {"displayName": f"Group {j:05d}", "securityEnabled": True, "mailEnabled": False}
        members = tuple(entries[k].upn for k in chosen)
        group_entries.append(GroupEntry(attributes, _id(rng), members, (), f"groups[{j}]"))
    return DirectoryFile(tuple(entries), tuple(group_entries))
