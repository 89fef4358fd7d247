"""The floor: a bare Flask endpoint doing exactly one ORM insert, and one doing one ORM keyset page.

Served by the same gunicorn, on the same PostgreSQL, in the same run as the service, it is
the least a request of each kind can cost on this stack that day: HTTP parsing, gunicorn,
Flask routing, a pooled SQLAlchemy session, one statement, JSON out. The service's figures
are reported as ratios to it (bench/cases_api.py), since absolute figures on this shared
2-core machine drift from day to day.

    POST /floor/rows              one ORM insert of the JSON body's title (201, {"id": ...})
    GET  /floor/rows[?cursor=ID]  one ORM keyset page: the 50 rows below the cursor, newest first

No authentication, validation, tenancy, audit or outbox: that is the service's own work,
which the ratio shows. `prepare(database_url)` creates and fills the table before gunicorn
starts; the application itself (`gunicorn 'bench.floor_app:create_app()'`, DATABASE_URL set)
only reads and writes it.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PAGE = 50
ROWS = 100_000


class Base(DeclarativeBase):
    pass


class FloorRow(Base):
    __tablename__ = "bench_floor_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


def _engine(database_url: str) -> sa.Engine:
    return sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=5)


def prepare(database_url: str, rows: int = ROWS) -> int:
    """Create the floor's table afresh with `rows` rows (a page is then a real index scan)."""
    engine = _engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO bench_floor_rows (title, created_at) "
            "SELECT 'floor row ' || n, now() FROM generate_series(1, :rows) AS n"), {"rows": rows})
        connection.execute(sa.text("ANALYZE bench_floor_rows"))
    engine.dispose()
    return rows


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    engine = _engine(database_url or os.environ["DATABASE_URL"])

    @app.post("/floor/rows")
    def insert_row():
        with Session(engine) as session:
            row = FloorRow(title=str((request.get_json(silent=True) or {}).get("title", ""))[:200],
                           created_at=datetime.now(timezone.utc))
            session.add(row)
            session.commit()
            return jsonify(id=row.id), 201

    @app.get("/floor/rows")
    def page_of_rows():
        query = sa.select(FloorRow).order_by(FloorRow.id.desc()).limit(PAGE)
        if request.args.get("cursor", "").isdigit():
            query = query.where(FloorRow.id < int(request.args["cursor"]))
        with Session(engine) as session:
            rows = session.scalars(query).all()
            return jsonify(items=[{"id": row.id, "title": row.title, "created_at": row.created_at.isoformat()}
                                  for row in rows], next_cursor=rows[-1].id if rows else None)

    @app.get("/readyz")
    def ready():
        return jsonify(status="ok")

    return app
