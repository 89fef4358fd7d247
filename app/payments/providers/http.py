"""The payments-API adapter: create a payout under an idempotency key, read its
status, verify the provider's signed status webhooks.

The sandbox provider (sandbox) speaks this protocol, so the
integration is exercised over real HTTP in the tests and the demo.
"""
from __future__ import annotations

import logging
import threading
import time

import requests
from marshmallow import ValidationError

from app import outbound
from app.bounds import loads_json, refuse_unstorable
from app.payments import signing
from app.payments.providers import (InvalidWebhook, MalformedWebhook, PayoutInstruction, ProviderRejected,
                                    ProviderResult, ProviderUnavailable, WebhookEvent, create_payouts_one_by_one, refused)

log = logging.getLogger(__name__)

# Provider words -> ours.
STATUSES = {"processing": "in_transit", "paid": "paid", "failed": "failed", "returned": "returned"}
# Short pauses before asking again inside one job; longer gaps are the queue's retries.
BACKOFF_SECONDS = (0.2, 0.6)
# Keep-alive connections, one pool per thread (requests' Session is not thread-safe).
_connections = threading.local()


def _http() -> requests.Session:
    session = getattr(_connections, "session", None)
    if session is None:
        session = _connections.session = outbound.http_session()
    return session


class HttpProvider:
    def __init__(self, name: str, base_url: str, api_key: str, webhook_secret: str, timeout: float):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.timeout = timeout

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        last_error: Exception | None = None
        for pause in (0.0, *BACKOFF_SECONDS):
            time.sleep(pause)
            try:
                # PAYMENTS_PROVIDER_TIMEOUT bounds each call in total, not each read.
                response = outbound.request(_http(), method, self.base_url + path, headers=headers,
                                            total_seconds=self.timeout, **kwargs)
            except requests.RequestException as exc:
                last_error = exc
                continue
            if response.status_code >= 500 or response.status_code in (409, 429):
                last_error = ProviderUnavailable(f"{method} {path}: HTTP {response.status_code}")
                continue
            return response
        raise ProviderUnavailable(f"{self.name}: {method} {path} gave no answer: {last_error}")

    @staticmethod
    def _result(body: dict) -> ProviderResult:
        status = STATUSES.get(body.get("status"))
        if status is None:
            raise ProviderUnavailable(f"unexpected provider status {body.get('status')!r}")
        try:
            amount, currency = _paid(body)
        except ValueError as exc:
            raise ProviderUnavailable(f"unexpected provider answer: {exc}") from None
        return ProviderResult(status=status, provider_payout_id=str(body["id"]),
                              reason=body.get("failure_reason") or body.get("return_reason"),
                              amount=amount, currency=currency)

    @staticmethod
    def _body(instruction: PayoutInstruction) -> dict:
        payee = instruction.payee
        return {"amount": instruction.amount, "currency": instruction.currency,
                "reference": instruction.idempotency_key, "description": instruction.description,
                "payee": {"type": payee.kind, "holder_name": payee.holder_name, "iban": payee.iban,
                          "bic": payee.bic, "account_number": payee.account_number,
                          "routing_number": payee.routing_number}}

    def create_payout(self, instruction: PayoutInstruction) -> ProviderResult:
        """POST the instruction; the same idempotency key always names the same provider payout."""
        response = self._request("POST", "/v1/payouts", json=self._body(instruction),
                                 headers={"Idempotency-Key": instruction.idempotency_key})
        if response.status_code >= 400:
            raise ProviderRejected(f"HTTP {response.status_code}: {response.text[:300]}")
        return self._result(response.json())

    def create_payouts(self, instructions: list[PayoutInstruction]) -> dict[str, ProviderResult | ProviderUnavailable]:
        """POST many instructions at once; each keeps its own idempotency key, answered item by item.

        A lone instruction goes to the single-payout endpoint. A refusal of the
        whole batch (4xx) fails every payout in it, as it would fail a single one.
        """
        if len(instructions) == 1:
            return create_payouts_one_by_one(self, instructions)
        items = [{**self._body(i), "idempotency_key": i.idempotency_key} for i in instructions]
        try:
            response = self._request("POST", "/v1/payout-batches", json={"payouts": items})
            if response.status_code >= 400:
                failed = refused(f"HTTP {response.status_code}: {response.text[:300]}")
                return {i.idempotency_key: failed for i in instructions}
            answers = {str(a.get("idempotency_key")): a for a in response.json()["results"]}
        except ProviderUnavailable as exc:
            return {i.idempotency_key: exc for i in instructions}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return {i.idempotency_key: ProviderUnavailable(f"bad batch answer: {exc}") for i in instructions}
        results: dict[str, ProviderResult | ProviderUnavailable] = {}
        for instruction in instructions:
            answer = answers.get(instruction.idempotency_key)
            try:
                if answer is None:
                    raise ProviderUnavailable("the batch answer left this payout out")
                if "payout" in answer:
                    results[instruction.idempotency_key] = self._result(answer["payout"])
                    continue
                status = int(answer["error"]["status"])
                if status >= 500 or status in (409, 429):
                    raise ProviderUnavailable(f"HTTP {status}: {answer['error'].get('message')}")
                results[instruction.idempotency_key] = refused(
                    f"HTTP {status}: {str(answer['error'].get('message'))[:300]}")
            except ProviderUnavailable as exc:
                results[instruction.idempotency_key] = exc
            except (ValueError, KeyError, TypeError) as exc:
                results[instruction.idempotency_key] = ProviderUnavailable(f"bad batch answer: {exc}")
        return results

    def payout_status(self, idempotency_key: str) -> ProviderResult | None:
        """What the provider holds under this key, or None if it never received it."""
        response = self._request("GET", "/v1/payouts", params={"reference": idempotency_key})
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ProviderUnavailable(f"status read refused: HTTP {response.status_code}")
        return self._result(response.json())

    def parse_webhooks(self, headers, body: bytes) -> list[WebhookEvent]:
        """The verified events of a delivery (one event, or {"events": [...]}), or InvalidWebhook."""
        try:
            signed = signing.verify(self.webhook_secret, body, headers.get(signing.HEADER))
        except signing.MalformedSignature as exc:
            raise MalformedWebhook(str(exc)) from None
        if not signed:
            raise InvalidWebhook("bad or stale signature")
        try:
            data = loads_json(body)
            refuse_unstorable(data)
            items = data["events"] if isinstance(data, dict) and "events" in data else [data]
            if not isinstance(items, list) or not items:
                raise ValueError("events must be a non-empty list")
            return [self._event(item) for item in items]
        except ValidationError:
            raise MalformedWebhook("malformed event: a NUL character or invalid Unicode") from None
        except InvalidWebhook as exc:
            raise MalformedWebhook(str(exc)) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedWebhook(f"malformed event: {str(exc)[:200]}") from None

    @staticmethod
    def _event(data: dict) -> WebhookEvent:
        payout = data["data"]
        try:
            amount, currency = _paid(payout)
        except ValueError as exc:
            raise InvalidWebhook(str(exc)) from None
        event = WebhookEvent(event_id=str(data["id"]), type=str(data["type"]), reference=str(payout["reference"]),
                             provider_payout_id=str(payout.get("id")) if payout.get("id") else None,
                             reason=payout.get("reason"), payload=data, amount=amount, currency=currency)
        if not (event.event_id and len(event.event_id) <= 100 and event.type and len(event.type) <= 40):
            raise InvalidWebhook("event id or type missing or too long")
        return event


def _paid(payout: dict) -> tuple[int | None, str | None]:
    """The amount and currency a provider's payout object names, when it names them; ValueError for
    values that are no amount or no currency. Currencies are compared in upper case, as ours are kept."""
    amount, currency = payout.get("amount"), payout.get("currency")
    if amount is not None and (type(amount) is not int or amount <= 0):
        raise ValueError("amount must be a positive whole number of minor units")
    if currency is not None and not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValueError("currency must be a three-letter ISO code")
    return amount, currency.upper() if currency else None
