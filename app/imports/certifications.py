"""Certifications from the vendor's training system: `email,product_family,certified_on,expires_on`.

Keyed by (e-mail, product family): a later export moves the dates in place. The
certified engineer must be an existing user of a partner; the family one the
vendor's products have.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import PARTNER_ROLES, Certification, User
from app.contracts.models import Product
from app.imports.contracts import parse_date
from app.imports.file_keys import FileKeys
from app.imports.reading import Line
from app.imports.registry import ImportContext, ImportKind, register

COLUMNS = ("email", "product_family", "certified_on", "expires_on")
EMAIL_MAX = User.__table__.c.email.type.length  # a longer one is no user's, and refused as such


class CertificationLines:
    def __init__(self, context: ImportContext):
        session = context.uow.session
        self.session, self.refuse, self.tally = session, context.refuse, context.tally
        # A family is named in any case and stored in the products' spelling.
        self.families = {family.lower(): family for family in session.scalars(sa.select(Product.family).distinct())}
        self.certifications = FileKeys(context.uow, parts=2)  # (e-mail, family)

    def take(self, lines: list[Line]) -> None:
        parsed = [p for p in (self._parse(line) for line in self._first_of_each_certification(lines))
                  if p is not None]
        users = self._users({email for _, email, *_ in parsed})
        stored = self._stored({users[email][0] for _, email, *_ in parsed if email in users})
        inserts, updates = [], []
        for number, email, family, certified_on, expires_on in parsed:
            user = users.get(email)
            if user is None:
                self.refuse(number, f"no user has the e-mail {email}")
                continue
            user_id, role = user
            if role not in PARTNER_ROLES:
                self.refuse(number, f"{email} is not a partner's engineer or admin ({role.value})")
                continue
            before = stored.get((user_id, family))
            if before is None:
                inserts.append({"user_id": user_id, "product_family": family, "certified_on": certified_on,
                                "expires_on": expires_on})
                self.tally.count("added")
            elif before != (certified_on, expires_on):
                updates.append({"b_user": user_id, "b_family": family, "b_certified": certified_on,
                                "b_expires": expires_on})
                self.tally.count("changed")
            else:
                self.tally.count("unchanged")
        table = Certification.__table__
        if inserts:
            self.session.execute(table.insert(), inserts)
        if updates:
            self.session.execute(
                table.update().where(table.c.user_id == sa.bindparam("b_user"),
                                     table.c.product_family == sa.bindparam("b_family"))
                .values(certified_on=sa.bindparam("b_certified"), expires_on=sa.bindparam("b_expires")), updates)

    def _first_of_each_certification(self, lines: list[Line]) -> list[Line]:
        """The lines but those giving an engineer's certification in a family that an earlier line of the
        file gave, which are refused: whatever became of the earlier one, the file would contradict itself."""
        keyed = []
        for line in lines:
            email, family = line.values["email"].lower(), self.families.get(line.values["product_family"].lower())
            if email and len(email) <= EMAIL_MAX and family:
                keyed.append((line.number, (email, family)))
        given = self.certifications.given_before(keyed)
        for number, (email, family) in keyed:
            if number in given:
                self.refuse(number, f"the {family} certification of {email} is given already on line {given[number]}")
        return [line for line in lines if line.number not in given]

    def _parse(self, line: Line):
        v = line.values
        email, family = v["email"].lower(), self.families.get(v["product_family"].lower(), v["product_family"])
        certified_on, bad_certified = parse_date("certified_on", v["certified_on"])
        expires_on, bad_expires = parse_date("expires_on", v["expires_on"])
        problem = ("email is empty" if not email else None) or \
            (f"unknown product family {family!r}" if family.lower() not in self.families else None) or \
            bad_certified or bad_expires or \
            (f"it expires ({expires_on}) before it was obtained ({certified_on})"
             if expires_on < certified_on else None)
        if problem:
            self.refuse(line.number, problem)
            return None
        return line.number, email, family, certified_on, expires_on

    def _users(self, emails: set[str]) -> dict[str, tuple]:
        wanted, found = list(emails), {}
        for start in range(0, len(wanted), 1000):
            for email, user_id, role in self.session.execute(
                    sa.select(sa.func.lower(User.email), User.id, User.role)
                    .where(sa.func.lower(User.email).in_(wanted[start:start + 1000]))):
                found[email] = (user_id, role)
        return found

    def _stored(self, user_ids: set[int]) -> dict[tuple[int, str], tuple]:
        """(certified_on, expires_on) of each stored certification of these users."""
        if not user_ids:
            return {}
        rows = self.session.execute(
            sa.select(Certification.user_id, Certification.product_family, Certification.certified_on,
                      Certification.expires_on).where(Certification.user_id.in_(user_ids)))
        return {(user_id, family): (certified, expires) for user_id, family, certified, expires in rows}


register(ImportKind("certifications", COLUMNS, CertificationLines,
                    "Engineers' certifications, one line per engineer and product family, from the training system."))
