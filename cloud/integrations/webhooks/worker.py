"""The delivery worker: sends each endpoint's queued deliveries, signed, oldest first, retrying with backoff.

Order: an endpoint's deliveries go out strictly in the order they were queued. Only the oldest pending one
(the head) is ever tried; while it fails, the ones behind it wait, so a receiver that comes back after an
hour gets everything, in order. A head older than `webhook_max_age_s` is given up ("failed") and the next
one moves up.

Several workers (processes or machines) may run at once: a worker sends to an endpoint only while it holds
the endpoint's lease (a conditional UPDATE of lease_owner/lease_until, renewed in the transaction recording
each attempt), so one endpoint is served by one worker at a time. A worker that dies loses its lease after
`webhook_lease_s`.

Delivery is at least once: a worker that dies between the receiver's answer and the commit sends that
delivery again; receivers drop repeats by the delivery id (header X-Openakerun-Delivery, body "id").

Every moment (due times, backoff, the signature's t, the maximum age) comes from `clock`, so a test can move
time forward an hour without sleeping. DeliveryWorker.run_once() is one pass; run() loops until stopped and
is what `python -m cloud webhooks` (or a combined worker) calls.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, func, select

from cloud.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cloud.integrations.webhooks.service import endpoint_secret
from cloud.integrations.webhooks.signing import (
    DELIVERY_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from cloud.integrations.webhooks.targets import TargetRefused, check_url
from cloud.settings import Settings
from cloud.vault.sealing import SealError

Clock = Callable[[], float]
log = logging.getLogger("cloud.webhooks")
_ERROR_CHARS = 200
_PRUNE_EVERY_S = 3600


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """(HTTP status, "") or (0, what went wrong)."""
        ...


class HttpSender:
    """POSTs with httpx: no redirects followed, the answer's body never read."""

    def __init__(self, timeout_s: float) -> None:
        self.client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        try:
            with self.client.stream("POST", url, content=body, headers=headers) as response:
                return response.status_code, ""
        except httpx.TimeoutException:
            return 0, "timeout"
        except httpx.HTTPError as error:
            return 0, f"{type(error).__name__}: {error}"[:_ERROR_CHARS]

    def close(self) -> None:
        self.client.close()


def _opened_secret(endpoint: WebhookEndpoint) -> str | None:
    try:
        return endpoint_secret(endpoint)
    except SealError:
        log.error("webhooks: the secret of endpoint %s does not open with this master key", endpoint.id)
        return None


def backoff_s(settings: Settings, attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: base * 2^(attempts - 1), capped."""
    exponent = min(max(attempts - 1, 0), 30)
    return int(min(settings.webhook_backoff_base_s * 2**exponent, settings.webhook_backoff_max_s))


@dataclass
class PassReport:
    endpoints: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    given_up: int = 0


@dataclass
class _Job:
    """What one attempt needs, read inside a short transaction and used outside it."""

    endpoint_id: int
    delivery_pk: int
    delivery_id: str
    kind: str
    url: str
    secret: str | None  # None: the sealed secret does not open (another master key): nothing can be signed
    body: bytes


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock = time.time,
        sender: Sender | None = None,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.sender = sender or HttpSender(settings.webhook_timeout_s)
        self.owner = owner or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._last_prune = 0

    def now(self) -> int:
        return int(self.clock())

    # --- one pass ---------------------------------------------------------------------------------

    def run_once(self) -> PassReport:
        """Serve every endpoint whose oldest pending delivery is due, then prune old deliveries (hourly)."""
        report = PassReport()
        for endpoint_id in self._due_endpoints():
            if not self._claim(endpoint_id):
                continue
            report.endpoints += 1
            try:
                self._drain(endpoint_id, report)
            finally:
                self._release(endpoint_id)
        if self.now() - self._last_prune >= _PRUNE_EVERY_S:
            self.prune()
        return report

    def run(self, stop: threading.Event, interval_s: float | None = None) -> None:
        """Passes until `stop` is set, pausing `interval_s` (default webhook_poll_interval_s) between them."""
        interval = self.settings.webhook_poll_interval_s if interval_s is None else interval_s
        while not stop.is_set():
            try:
                report = self.run_once()
                if report.delivered or report.failed_attempts or report.given_up:
                    log.info("webhooks: %s", report)
            except sa.exc.OperationalError as error:  # database restarting: try again next pass
                log.warning("webhooks: database unavailable (%s), retrying", type(error).__name__)
            stop.wait(interval)

    def _due_endpoints(self) -> list[int]:
        """Enabled endpoints whose head (oldest pending delivery) is due now."""
        with Session(self.engine) as session:
            heads = (
                sa.select(func.min(col(WebhookDelivery.id)))
                .where(col(WebhookDelivery.status) == "pending")
                .group_by(col(WebhookDelivery.endpoint_id))
            )
            rows = session.execute(
                sa.select(col(WebhookDelivery.endpoint_id))
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .where(
                    col(WebhookDelivery.id).in_(heads),
                    col(WebhookDelivery.next_attempt_at) <= self.now(),
                    col(WebhookEndpoint.enabled).is_(True),
                )
                .order_by(col(WebhookDelivery.endpoint_id))
            ).all()
        return [endpoint_id for (endpoint_id,) in rows]

    # --- leases -----------------------------------------------------------------------------------

    def _claim(self, endpoint_id: int) -> bool:
        """Take (or renew) the endpoint's lease; False if another worker holds it."""
        now = self.now()
        with Session(self.engine) as session:
            result = session.execute(
                sa.update(WebhookEndpoint)
                .where(
                    col(WebhookEndpoint.id) == endpoint_id,
                    sa.or_(
                        col(WebhookEndpoint.lease_until) < now,
                        col(WebhookEndpoint.lease_owner) == self.owner,
                    ),
                )
                .values(lease_owner=self.owner, lease_until=now + self.settings.webhook_lease_s)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _release(self, endpoint_id: int) -> None:
        with Session(self.engine) as session:
            session.execute(
                sa.update(WebhookEndpoint)
                .where(col(WebhookEndpoint.id) == endpoint_id, col(WebhookEndpoint.lease_owner) == self.owner)
                .values(lease_owner="", lease_until=0)
            )
            session.commit()

    # --- one endpoint -----------------------------------------------------------------------------

    def _drain(self, endpoint_id: int, report: PassReport) -> None:
        """Send the endpoint's due deliveries in order; stop at the first failure (it blocks the rest) and
        when the lease could not be renewed (another worker took the endpoint over)."""
        for _ in range(self.settings.webhook_batch):
            job = self._next_job(endpoint_id, report)
            if job is None or not self._attempt(job, report):
                return

    def _next_job(self, endpoint_id: int, report: PassReport) -> _Job | None:
        """The endpoint's head delivery if it is due; heads past the maximum age are given up on the way."""
        with Session(self.engine) as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None or not endpoint.enabled:
                return None
            while True:
                delivery = session.exec(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
                    .order_by(col(WebhookDelivery.id))
                    .limit(1)
                ).first()
                now = self.now()
                if delivery is None or delivery.next_attempt_at > now:
                    return None
                if now - delivery.created_at <= self.settings.webhook_max_age_s:
                    break
                delivery.status, delivery.finished_at = "failed", now
                delivery.last_error = f"given up: not delivered within {self.settings.webhook_max_age_s} s"
                session.add(delivery)
                session.commit()
                report.given_up += 1
            assert delivery.id is not None
            return _Job(
                endpoint_id=endpoint_id,
                delivery_pk=delivery.id,
                delivery_id=delivery.delivery_id,
                kind=delivery.kind,
                url=endpoint.url,
                secret=_opened_secret(endpoint),
                body=delivery.body.encode("ascii"),
            )

    def _attempt(self, job: _Job, report: PassReport) -> bool:
        """One signed POST (outside any transaction), then its outcome recorded. True if delivered and the
        endpoint is still this worker's."""
        now = self.now()
        started = time.monotonic()
        try:
            check_url(job.url, self.settings)
        except TargetRefused as error:
            status, error_text = 0, f"target refused: {error}"[:_ERROR_CHARS]
        else:
            status, error_text = self._send(job, now)
        duration_ms = int((time.monotonic() - started) * 1000)
        delivered = 200 <= status < 300
        if not delivered and status:
            error_text = f"HTTP {status}"
        still_mine = self._record(job, now, status, error_text, duration_ms, delivered)
        if delivered:
            report.delivered += 1
        else:
            report.failed_attempts += 1
        return delivered and still_mine

    def _send(self, job: _Job, now: int) -> tuple[int, str]:
        if job.secret is None:
            return 0, "the signing secret does not open: is this the master key it was sealed with?"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "openakerun-webhooks/1",
            SIGNATURE_HEADER: signature_header(job.secret, now, job.body),
            KIND_HEADER: job.kind,
            DELIVERY_HEADER: job.delivery_id,
        }
        return self.sender.post(job.url, job.body, headers)

    def _record(
        self, job: _Job, now: int, status: int, error: str, duration_ms: int, delivered: bool
    ) -> bool:
        """The attempt and the delivery's new state, and the endpoint's lease renewed, in one transaction.
        True if the lease was renewed."""
        with Session(self.engine) as session:
            delivery = session.get(WebhookDelivery, job.delivery_pk)
            if delivery is None or delivery.status != "pending":  # deleted with its endpoint meanwhile
                return False
            attempt = WebhookAttempt(delivery_id=job.delivery_pk, at=now, status_code=status, error=error)
            attempt.duration_ms = duration_ms
            session.add(attempt)
            delivery.attempts += 1
            delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, status, error
            if delivered:
                delivery.status, delivery.finished_at = "delivered", now
            else:
                delivery.next_attempt_at = now + backoff_s(self.settings, delivery.attempts)
            session.add(delivery)
            renewed = session.execute(
                sa.update(WebhookEndpoint)
                .where(
                    col(WebhookEndpoint.id) == job.endpoint_id, col(WebhookEndpoint.lease_owner) == self.owner
                )
                .values(lease_until=now + self.settings.webhook_lease_s)
            )
            session.commit()
            return bool(renewed.rowcount)  # type: ignore[attr-defined]

    # --- housekeeping -----------------------------------------------------------------------------

    def prune(self) -> int:
        """Delete delivered and failed deliveries (and their attempts) older than the retention."""
        now = self.now()
        cutoff = now - self.settings.webhook_retention_days * 86400
        with Session(self.engine) as session:
            old = select(WebhookDelivery.id).where(
                col(WebhookDelivery.status) != "pending", col(WebhookDelivery.finished_at) < cutoff
            )
            session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(old)))
            result = session.execute(
                delete(WebhookDelivery).where(
                    col(WebhookDelivery.status) != "pending", col(WebhookDelivery.finished_at) < cutoff
                )
            )
            session.commit()
        self._last_prune = now
        return int(result.rowcount)  # type: ignore[attr-defined]
