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
from app.imports.reading import Line
from app.imports.registry import ImportContext, ImportKind, register

COLUMNS = ("email", "product_family", "certified_on", "expires_on")


class CertificationLines:
    def __init__(self, context: ImportContext):
        session = context.uow.session
        self.session, self.refuse, self.tally = session, context.refuse, context.tally
        # A family is named in any case and stored in the products' spelling.
        self.families = {family.lower(): family for family in session.scalars(sa.select(Product.family).distinct())}
        # Given twice is refused (see contracts.py): added ones by the id watermark, changed ones by hash.
        self.watermark = session.scalar(sa.select(sa.func.max(Certification.id))) or 0
        self.changed: set[int] = set()

    def take(self, lines: list[Line]) -> None:
        parsed = [p for p in (self._parse(line) for line in lines) if p is not None]
        users = self._users({email for _, email, *_ in parsed})
        stored = self._stored({users[email][0] for _, email, *_ in parsed if email in users})
        inserts, updates, batch = [], [], {}
        for number, email, family, certified_on, expires_on in parsed:
            earlier = batch.setdefault((email, family), number)
            if earlier != number:
                self.refuse(number, f"the {family} certification of {email} is given already on line {earlier}")
                continue
            user = users.get(email)
            if user is None:
                self.refuse(number, f"no user has the e-mail {email}")
                continue
            user_id, role = user
            if role not in PARTNER_ROLES:
                self.refuse(number, f"{email} is not a partner's engineer or admin ({role.value})")
                continue
            before, row_id = stored.get((user_id, family), (None, 0))
            if row_id > self.watermark or hash((email, family)) in self.changed:
                self.refuse(number, f"the {family} certification of {email} is given already on an earlier line")
                continue
            if before is None:
                inserts.append({"user_id": user_id, "product_family": family, "certified_on": certified_on,
                                "expires_on": expires_on})
                self.tally.count("added")
            elif before != (certified_on, expires_on):
                updates.append({"b_user": user_id, "b_family": family, "b_certified": certified_on,
                                "b_expires": expires_on})
                self.changed.add(hash((email, family)))
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
        """((certified_on, expires_on), row id) of each stored certification of these users."""
        if not user_ids:
            return {}
        rows = self.session.execute(
            sa.select(Certification.user_id, Certification.product_family, Certification.certified_on,
                      Certification.expires_on, Certification.id).where(Certification.user_id.in_(user_ids)))
        return {(user_id, family): ((certified, expires), row_id)
                for user_id, family, certified, expires, row_id in rows}


register(ImportKind("certifications", COLUMNS, CertificationLines,
                    "Engineers' certifications, one line per engineer and product family, from the training system."))
