"""Users from the vendor's directory: `email,name,organisation,role`; each new user is invited.

Keyed by e-mail: a later export renames a user in place. A user's organisation and role are
changed on the user's own page, where the rules about the last admin hold, so a line that would
change either is refused with that reason. New users are made by the accounts feature's
invite_user, as on the pages and in the API, inside the import's one transaction: a dry run or a
refused file invites nobody.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.errors import DomainError
from app.imports.file_keys import FileKeys
from app.imports.reading import Line
from app.imports.registry import ImportContext, ImportKind, register

from app.accounts.invitations import invite_user, normalise_email

COLUMNS = ("email", "name", "organisation", "role")
ROLES = {role.value: role for role in Role}
EMAIL_MAX = User.__table__.c.email.type.length  # a longer one is no user's, and refused as such


class UserLines:
    def __init__(self, context: ImportContext):
        self.uow, self.session = context.uow, context.uow.session
        self.refuse, self.tally, self.actor = context.refuse, context.tally, context.actor
        self.organisations: dict[str, Organisation] = {}
        self.emails = FileKeys(context.uow, parts=1)

    def take(self, lines: list[Line]) -> None:
        parsed = [p for p in (self._parse(line) for line in self._first_of_each_user(lines)) if p is not None]
        self._load_organisations({org for _, _, _, org, _ in parsed})
        existing = self._existing({email for _, email, *_ in parsed})
        for number, email, name, org_name, role in parsed:
            organisation = self.organisations.get(org_name)
            found = existing.get(email)
            if organisation is None:
                self.refuse(number, f"unknown organisation {org_name!r}")
            elif found:
                self._update(number, email, name, organisation, role, found)
            else:
                self._invite(number, email, name, organisation, role)

    def _first_of_each_user(self, lines: list[Line]) -> list[Line]:
        """The lines but those giving a user an earlier line of the file gave, which are refused:
        whatever became of the earlier one, the file would contradict itself."""
        keyed = [(line.number, (email,)) for line in lines
                 if 0 < len(email := normalise_email(line.values["email"])) <= EMAIL_MAX]
        given = self.emails.given_before(keyed)
        for number, (email,) in keyed:
            if number in given:
                self.refuse(number, f"the user {email} is given already on line {given[number]}")
        return [line for line in lines if line.number not in given]

    def _parse(self, line: Line):
        v = line.values
        email, role = normalise_email(v["email"]), ROLES.get(v["role"].lower())
        problem = ("email is empty" if not email else None) or \
            ("organisation is empty" if not v["organisation"] else None) or \
            (f"unknown role {v['role']!r} (one of {', '.join(ROLES)})" if role is None else None)
        if problem:
            self.refuse(line.number, problem)
            return None
        return line.number, email, v["name"], v["organisation"], role

    def _update(self, number: int, email: str, name: str, organisation: Organisation, role: Role, found) -> None:
        user_id, stored_name, organisation_id, stored_role = found
        if organisation_id != organisation.id:
            self.refuse(number, f"{email} is a user of another organisation: move it on the user's page")
        elif stored_role != role:
            self.refuse(number, f"{email} is {stored_role.value}, not {role.value}: change the role on the user's page")
        elif stored_name != name:
            if not name or len(name) > 200:
                self.refuse(number, "name must be 1 to 200 characters")
                return
            self.session.execute(sa.update(User).where(User.id == user_id).values(name=name))
            self.tally.count("changed")
        else:
            self.tally.count("unchanged")

    def _invite(self, number: int, email: str, name: str, organisation: Organisation, role: Role) -> None:
        try:
            invite_user(self.uow, email=email, name=name, organisation=organisation, role=role,
                        invited_by=self.actor)
        except DomainError as exc:  # checked before anything is written: the line alone is refused
            fields = exc.details.get("fields") or {}
            self.refuse(number, "; ".join(f"{field}: {' '.join(problems)}" for field, problems in fields.items())
                        if fields and exc.code == "invalid_input" else exc.message)
            return
        self.tally.count("added")

    def _load_organisations(self, names: set[str]) -> None:
        wanted = [name for name in names if name not in self.organisations]
        for start in range(0, len(wanted), 1000):
            for organisation in self.session.scalars(
                    sa.select(Organisation).where(Organisation.name.in_(wanted[start:start + 1000]))):
                self.organisations[organisation.name] = organisation

    def _existing(self, emails: set[str]) -> dict[str, tuple]:
        wanted, found = list(emails), {}
        for start in range(0, len(wanted), 1000):
            for email, user_id, name, organisation_id, role in self.session.execute(
                    sa.select(sa.func.lower(User.email), User.id, User.name, User.organisation_id, User.role)
                    .where(sa.func.lower(User.email).in_(wanted[start:start + 1000]))):
                found[email] = (user_id, name, organisation_id, role)
        return found


register(ImportKind("users", COLUMNS, UserLines,
                    "GTAC, partner and customer users, one line per person; each new user gets an invitation."))
