"""The payments pages in a real browser, each journey done from the web alone: an MDF claim with its
proof of performance, bank details of either kind, and the programmes team's decisions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable

pytestmark = pytest.mark.browser


def file_claim(page, type_label: str, amount: str, description: str) -> int:
    """Files a draft claim through the partner's form; returns its number."""
    page.goto("/payments/partner")
    form = page.get_by_role("region", name="New claim")
    form.get_by_label("Type").select_option(label=type_label)
    form.get_by_label("Amount").fill(amount)
    # The period is left as the form starts it, at the current quarter: the demo's allocation covers it.
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("saved as a draft")
    return int(re.search(r"/payments/claims/(\d+)$", page.url).group(1))


def test_partner_submits_an_mdf_claim_with_its_proof_from_the_web(page, sign_in, tmp_path):
    sign_in(page, "admin")
    claim_id = file_claim(page, "Market development funds", "1500.00", "Booth at the EXOS roadshow")
    proof = page.get_by_role("region", name="Proof of performance")
    expect(proof).to_contain_text("No proof yet")
    page.goto("/payments/partner")  # what is left of the allocation, before the claim is filed
    expect(page.get_by_role("region", name="Market development funds")).to_contain_text("50,000.00 USD")
    page.goto(f"/payments/claims/{claim_id}")
    proof = page.get_by_role("region", name="Proof of performance")
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
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("submitted", re.IGNORECASE))
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


def bank_details(page):
    return page.get_by_role("region", name="Bank details")


def test_bank_details_ask_only_for_the_chosen_type_of_account(page, sign_in):
    sign_in(page, "admin")
    page.goto("/payments/partner")
    bank = bank_details(page)
    bank.get_by_role("radio", name="IBAN account").check()
    expect(bank.get_by_label("Account number")).to_be_hidden()
    expect(bank.get_by_label("ABA routing number")).to_be_hidden()
    bank.get_by_label("Account holder").fill("Northwind Networks GmbH")
    bank.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 00")
    bank.get_by_role("button", name="Replace bank details").click()
    expect(page.get_by_role("status")).to_contain_text("Bank details saved")
    expect(bank_details(page)).to_contain_text("DE89 **** 3000")
    assert_usable(page, "the partner's payments page")

    bank = bank_details(page)
    bank.get_by_role("radio", name="US account (ABA routing)").check()
    expect(bank.get_by_label("IBAN", exact=True)).to_be_hidden()
    bank.get_by_label("Account holder").fill("Northwind Networks Inc")
    bank.get_by_label("Account number").fill("000123456789")
    bank.get_by_label("ABA routing number").fill("011000015")
    bank.get_by_role("button", name="Replace bank details").click()
    expect(page.get_by_role("status")).to_contain_text("Bank details saved")
    expect(bank_details(page)).to_contain_text("****6789 (routing ****0015)")


def test_bank_details_work_without_javascript_and_keep_what_was_typed(page_without_js, sign_in):
    page = sign_in(page_without_js, "admin")
    page.goto("/payments/partner")
    bank = bank_details(page)
    # Every field shows; only the chosen type's are needed.
    expect(bank.get_by_label("Account number")).to_be_visible()
    bank.get_by_role("radio", name="US account (ABA routing)").check()
    bank.get_by_label("Account holder").fill("Northwind Networks Inc")
    bank.get_by_label("Account number").fill("000123456789")
    bank.get_by_label("ABA routing number").fill("011000016")  # the check digit is wrong
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        bank.get_by_role("button", name="Replace bank details").click()
    assert answer.value.status == 400
    bank = bank_details(page)
    routing = bank.get_by_label("ABA routing number")
    expect(routing).to_have_attribute("aria-invalid", "true")
    expect(bank).to_contain_text("Not a valid ABA routing number")
    expect(bank.get_by_label("Account number")).to_have_value("000123456789")
    expect(bank.get_by_role("radio", name="US account (ABA routing)")).to_be_checked()
    expect(bank).to_contain_text("GB33 **** 5555")  # the details on file are unchanged

    routing.fill("011000015")
    bank.get_by_role("button", name="Replace bank details").click()
    expect(page.get_by_role("status")).to_contain_text("Bank details saved")
    expect(bank_details(page)).to_contain_text("****6789 (routing ****0015)")

    # An IBAN account, with the US fields left as they are: they are not asked for.
    bank = bank_details(page)
    bank.get_by_role("radio", name="IBAN account").check()
    bank.get_by_label("Account holder").fill("Northwind Networks GmbH")
    bank.get_by_label("IBAN", exact=True).fill("DE89370400440532013000")
    bank.get_by_role("button", name="Replace bank details").click()
    expect(bank_details(page)).to_contain_text("DE89 **** 3000")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("signed out")


def test_programmes_reject_a_claim_from_the_web_and_the_partner_reads_why(page, sign_in):
    sign_in(page, "admin")
    claim_id = file_claim(page, "Rebate", "640.00", "Q3 rebate on EXOS switches")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("status")).to_contain_text("Claim submitted.")
    sign_out(page)

    sign_in(page, "programs")
    page.goto("/payments/programmes")
    assert_usable(page, "the programmes page")
    page.get_by_role("link", name=f"Reject claim {claim_id}").click()
    decide = page.get_by_role("region", name="Decide")
    # A blank reason (the browser's own checks let spaces through): refused at the field.
    decide.get_by_label("Reason").fill("   ")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        decide.get_by_role("button", name="Reject").click()
    assert answer.value.status == 400
    reason = page.get_by_role("region", name="Decide").get_by_label("Reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("region", name="Decide")).to_contain_text("A rejection needs a reason.")
    assert_usable(page, "a claim refused a rejection")
    reason.fill("The invoice covers Q2, not Q3: file it again under 2026-Q2.")
    page.get_by_role("region", name="Decide").get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text(f"Claim {claim_id} rejected.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("rejected", re.IGNORECASE))
    expect(page.get_by_role("region", name="Decide")).to_have_count(0)
    sign_out(page)

    sign_in(page, "admin")
    page.goto(f"/payments/claims/{claim_id}")
    expect(page.locator("main")).to_contain_text("The invoice covers Q2, not Q3")


def test_programmes_set_an_mdf_allocation_from_the_web(page, sign_in):
    sign_in(page, "programs")
    page.goto("/payments/programmes")
    section = page.get_by_role("region", name="MDF allocations")
    expect(section.locator("tbody tr", has_text="Northwind").filter(has_text="2026-Q3")
           ).to_contain_text("50,000.00 USD")
    section.get_by_label("Partner").select_option(label="Contoso Integrators")
    section.get_by_label("Programme period").fill("2026-Q4")
    section.get_by_label("Allocation").fill("12,500.00")
    section.get_by_role("button", name="Set allocation").click()
    expect(page.get_by_role("status")).to_contain_text("Contoso Integrators for 2026-Q4 is now 12,500.00 USD")
    row = page.get_by_role("region", name="MDF allocations").locator("tbody tr", has_text="Contoso")
    expect(row).to_contain_text("2026-Q4")
    expect(row).to_contain_text("12,500.00 USD")
    assert_usable(page, "the programmes page with allocations")

    # Not a period: refused with the reason, nothing set.
    section = page.get_by_role("region", name="MDF allocations")
    section.get_by_label("Partner").select_option(label="Northwind Networks")
    section.get_by_label("Programme period").fill("Q4")
    section.get_by_label("Allocation").fill("1.00")
    section.get_by_role("button", name="Set allocation").click()
    expect(page.get_by_role("alert")).to_contain_text("A period such as 2026-Q3.")
    expect(page.get_by_role("region", name="MDF allocations").locator("tbody tr", has_text="Northwind")
           .filter(has_text="2026-Q3")).to_contain_text("50,000.00 USD")
    # The form comes back as it was filled in, the field marked, for the person to mend it.
    section = page.get_by_role("region", name="MDF allocations")
    expect(section.get_by_label("Programme period")).to_have_value("Q4")
    expect(section.get_by_label("Programme period")).to_have_attribute("aria-invalid", "true")
    expect(section.get_by_label("Allocation")).to_have_value("1.00")
    assert_usable(page, "the programmes page with a refused allocation")


def test_the_programmes_team_finds_claims_by_status_and_type_from_its_page(page, sign_in):
    sign_in(page, "programs")
    page.goto("/payments/programmes")
    page.get_by_role("link", name="Every claim, by status and type").click()
    filters = page.get_by_role("search", name="Filter claims")
    filters.get_by_label("Status").select_option(label="submitted")
    filters.get_by_label("Type").select_option(label="Rebate")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/payments/claims\?status=submitted&type=rebate"))
    rows = page.locator("tr[data-claim]")
    expect(rows).to_have_count(1)  # the demo's claim waiting for approval
    expect(rows.first).to_contain_text("Northwind Networks")
    assert_usable(page, "the claim list, filtered")
    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/payments/claims$"))
    page.goto("/payments/payouts?status=lost")
    expect(page.get_by_role("alert")).to_contain_text("A filter is not one this page offers.")
    expect(page.get_by_label("Status")).to_have_attribute("aria-invalid", "true")
    assert_usable(page, "the payout list, refused filter")


def test_an_earlier_statement_is_read_from_the_programmes_page(page, sign_in, tmp_path):
    sign_in(page, "programs")
    header = "provider_payout_id,reference,amount,currency,status\n"
    for name, line in (("october.csv", "sbx_1,PO-UNKNOWN-1,100,USD,paid\n"), ("november.csv", "")):
        statement = tmp_path / name
        statement.write_text(header + line)
        page.goto("/payments/programmes")
        page.get_by_label("Provider statement (CSV)").set_input_files(statement)
        page.get_by_role("button", name="Match statement").click()
        expect(page.locator("#reconciliation")).to_contain_text(f"{name}:")
    page.get_by_role("link", name="october.csv").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciliation of october.csv")
    expect(page.get_by_role("table")).to_contain_text("PO-UNKNOWN-1")
    assert_usable(page, "an earlier statement's reconciliation")
