"""The import pages through Flask's test client: the progress of an import being applied, applying
a preview once only, and nobody but the vendor admin on these pages."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.contracts.models import CoveredSerial, ServiceContract
from app.extensions import db
from app.imports.models import ImportRun, ImportStatus
from tests.web.helpers import count, csrf_token, sign_in, text

EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"


def sign_in_vendor_admin(client) -> str:
    token = csrf_token(text(client.get("/login")))
    answer = client.post("/login", data={"email": "vendor-admin@vendor.example", "password": "demo-password",
                                         "csrf_token": token})
    assert answer.status_code == 302
    return csrf_token(text(client.get(answer.headers["Location"])))


def preview(client, token: str, content: bytes, skip_bad: bool = False) -> int:
    data = {"csrf_token": token, "file": (io.BytesIO(content), "contracts.csv")}
    if skip_bad:
        data["skip_bad"] = "y"
    answer = client.post("/admin/imports/contracts", data=data, content_type="multipart/form-data")
    assert answer.status_code == 303, text(answer)[:500]
    return int(re.search(r"/admin/imports/(\d+)$", answer.headers["Location"]).group(1))


def test_a_preview_writes_nothing_and_applying_it_writes_it_once(app, client, demo):
    token = sign_in_vendor_admin(client)
    serials = count(app, CoveredSerial)
    run_id = preview(client, token, (EXAMPLES / "contracts.csv").read_bytes())
    assert count(app, CoveredSerial) == serials
    page = text(client.get(f"/admin/imports/{run_id}"))
    assert "What applying it will change" in page and "Apply: 3 added, 0 changed" in page

    applied = client.post(f"/admin/imports/{run_id}/application", data={"csrf_token": token})
    assert applied.status_code == 303
    assert count(app, CoveredSerial) == serials + 3
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        assert (run.status, run.added, run.unchanged, run.storage_key) == (ImportStatus.APPLIED, 3, 1, None)

    again = client.post(f"/admin/imports/{run_id}/application", data={"csrf_token": token}, follow_redirects=True)
    assert f"Import {run_id} is applied, not waiting to be applied." in text(again)
    assert count(app, CoveredSerial) == serials + 3


def test_a_preview_with_bad_lines_cannot_be_applied_unless_they_are_skipped(app, client, demo):
    token = sign_in_vendor_admin(client)
    content = (EXAMPLES / "contracts.csv").read_bytes().replace(b"AP5020", b"X9999")
    run_id = preview(client, token, content)
    refused = client.post(f"/admin/imports/{run_id}/application", data={"csrf_token": token}, follow_redirects=True)
    assert "The file has bad lines" in text(refused)
    assert count(app, ServiceContract, ServiceContract.number == "PW-INITECH-2027") == 0

    skipping = preview(client, token, content, skip_bad=True)
    client.post(f"/admin/imports/{skipping}/application", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(ImportRun, skipping).status == ImportStatus.APPLIED
        assert set(db.session.scalars(sa.select(CoveredSerial.serial_number).join(ServiceContract).where(
            ServiceContract.number == "PW-INITECH-2027"))) == {"INI-0001"}


def test_an_import_being_applied_shows_its_progress_and_refreshes(app, client, demo):
    sign_in_vendor_admin(client)
    with app.app_context():
        vendor_admin_id = db.session.scalar(sa.text("SELECT id FROM users WHERE role = 'vendor_admin'"))
        run = ImportRun(kind="contracts", filename="erp.csv", size=1000, status=ImportStatus.RUNNING,
                        processed_bytes=420, created_by_id=vendor_admin_id, added=17)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    page = text(client.get(f"/admin/imports/{run_id}"))
    assert '<progress id="progress" max="100" value="42">' in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Applying" in page


@pytest.mark.parametrize("who", ["engineer", "admin", "customer", "gtac", "manager", "programs"])
def test_only_the_vendor_admin_has_the_contract_and_import_pages(client, demo, who):
    token = sign_in(client, who)
    for url in ("/admin/contracts", "/admin/imports", "/admin/contracts/1"):
        assert client.get(url).status_code == 403, url
    upload = client.post("/admin/imports/contracts", content_type="multipart/form-data",
                         data={"csrf_token": token, "file": (io.BytesIO(b"x"), "x.csv")})
    assert upload.status_code == 403
    home = text(client.get("/home"))
    assert "/admin/contracts" not in home and "/admin/imports" not in home


def test_a_preview_is_applied_by_a_worker_whether_its_file_is_kept_locally_or_in_s3(app, client, demo,
                                                                                    attachment_store, monkeypatch):
    from app.imports.services import execute

    token = sign_in_vendor_admin(client)
    serials = count(app, CoveredSerial)
    run_id = preview(client, token, (EXAMPLES / "contracts.csv").read_bytes())
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)  # queued for a worker
    assert client.post(f"/admin/imports/{run_id}/application", data={"csrf_token": token}).status_code == 303
    with app.app_context():  # the worker: a session of its own, nothing read yet
        execute(run_id)
        assert db.session.get(ImportRun, run_id).status is ImportStatus.APPLIED
        db.session.remove()
    assert count(app, CoveredSerial) == serials + 3
