"""The payments pages in a real browser, each journey done from the web alone: an MDF claim with its
proof of performance, bank details of either kind, and the programmes team's decisions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.a11y import assert_usable

pytestmark = pytest.mark.browser


def file_claim(page, type_label: str, amount: str, description: str) -> int:
    """Files a draft claim through the partner's form; returns its number."""
    page.goto("/payments/partner")
    form = page.get_by_role("region", name="New claim")
    form.get_by_label("Type").select_option(label=type_label)
    form.get_by_label("Amount").fill(amount)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("saved as a draft")
    return int(re.search(r"/payments/claims/(\d+)$", page.url).group(1))


def test_partner_submits_an_mdf_claim_with_its_proof_from_the_web(page, sign_in, tmp_path):
    sign_in(page, "admin")
    claim_id = file_claim(page, "Market development funds", "1500.00", "Booth at the Q3 EXOS roadshow")
    proof = page.get_by_role("region", name="Proof of performance")
    expect(proof).to_contain_text("No proof yet")
    assert_usable(page, "a draft MDF claim")

    # Submitting without proof is refused, and says why.
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert").filter(has_text="proof-of-performance")).to_be_visible()

    photo = tmp_path / "roadshow-booth.pdf"
    photo.write_bytes(b"%PDF-1.4 booth photos and the attendee list")
    proof.get_by_label("Proof file").set_input_files(str(photo))
    proof.get_by_role("button", name="Add proof").click()
    expect(page.get_by_role("status")).to_contain_text("Proof roadshow-booth.pdf added.")
    expect(page.get_by_role("region", name="Proof of performance")).to_contain_text("roadshow-booth.pdf")

    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("status")).to_contain_text("Claim submitted.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Claim {claim_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("submitted", re.I))
    # Once submitted the proof is read-only.
    expect(page.get_by_role("button", name="Add proof")).to_have_count(0)
    assert_usable(page, "a submitted MDF claim")


def test_proof_upload_without_a_file_or_with_a_stale_form_changes_nothing(page, sign_in, tmp_path):
    sign_in(page, "admin")
    claim_id = file_claim(page, "Market development funds", "200.00", "Partner webinar")
    # A form whose CSRF token is no longer valid: refused with a message, no file kept.
    page.locator("#proof input[name=csrf_token]").evaluate("input => input.value = 'stale'")
    photo = tmp_path / "webinar.pdf"
    photo.write_bytes(b"%PDF-1.4 webinar attendance")
    page.get_by_label("Proof file").set_input_files(str(photo))
    page.get_by_role("button", name="Add proof").click()
    expect(page.get_by_role("alert")).to_contain_text("Reload the page")
    expect(page.get_by_role("region", name="Proof of performance")).to_contain_text("No proof yet")
    assert page.url.endswith(f"/payments/claims/{claim_id}#proof")
