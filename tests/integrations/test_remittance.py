"""Remittance advice: each payment's e-mail to the partner lists the claims it pays, under the
platform's reference for a pushed claim; the partner's payments page shows the same."""
from __future__ import annotations

from tests.accounts.mail import mailbox  # noqa: F401  (fixture)
from tests.integrations.conftest import claim
from tests.payments.conftest import wait_until


def _advices(mailbox, reference):
    return [m for m in mailbox.messages if m["Subject"].startswith(f"[Remittance advice {reference}]")]


def test_each_payment_sends_a_remittance_advice_listing_the_claims_it_pays(platform, receiver, sandbox, partners,
                                                                         mailbox, signed_in, payments):
    sandbox.faults(settle_after=0.2)
    first = platform.push(claim("CLM-R-1", partners["northwind"], amount=125_000)).json()
    second = platform.push(claim("CLM-R-2", partners["northwind"], amount=9_999)).json()
    own = payments.claim(amount=4_200)  # filed by hand, approved by the programmes team: no platform reference
    assert payments.approve(own).status_code == 200
    own_payout = payments.payout_of(own)
    for pushed in (first, second):
        wait_until(lambda: _advices(mailbox, pushed["payout_reference"]), what="the remittance advice")
    wait_until(lambda: _advices(mailbox, own_payout["reference"]), what="the hand-filed claim's advice")

    (advice,) = _advices(mailbox, first["payout_reference"])
    assert advice["To"] == "admin@northwind.example"
    assert advice["Subject"] == f"[Remittance advice {first['payout_reference']}] 1,250.00 USD paid"
    text = advice.get_content()
    assert f"Payment {first['payout_reference']} of 1,250.00 USD was paid on " in text
    assert (f"- Claim {first['claim_id']} (rebate, 2026-Q3, platform reference CLM-R-1): 1,250.00 USD"
            in text)
    assert "Total: 1,250.00 USD" in text and "CLM-R-2" not in text
    (other,) = _advices(mailbox, second["payout_reference"])
    assert "platform reference CLM-R-2): 99.99 USD" in other.get_content()
    (hand,) = _advices(mailbox, own_payout["reference"])
    assert f"- Claim {own} (rebate, 2026-Q3): 42.00 USD" in hand.get_content()

    page = signed_in("admin").get("/payments/partner")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Remittance advice" in html
    for pushed, reference in ((first, "CLM-R-1"), (second, "CLM-R-2")):
        assert pushed["payout_reference"] in html and reference in html
    section = html.split('id="remittance-h"', 1)[1].split("</section>", 1)[0]
    assert section.count("<table") == 3  # one advice per payment
    assert f"Claim {own}</a>" in section
