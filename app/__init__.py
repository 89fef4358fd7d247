"""GTAC Triage: partner support cases, the PartnerWorks GTAC checklist, GTAC SRs and partner payouts."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, request
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.accounts import api as accounts_api
from app.administration import api as administration_api
from app.administration import views as administration_views
from app.accounts import account_views
from app.accounts import users_api
from app.accounts import users_views
from app.accounts.mail import HANDLERS as ACCOUNT_MAIL_HANDLERS
from app.accounts import sessions as web_sessions
from app.accounts.api_auth import authenticate_api_request
from app.accounts.services import load_user
from app import logs, rate_limits
from app.api_base import domain_error, http_error, integrity_error, refuse_unstorable_request
from app.attachments import api as attachments_api
from app.attachments import services as attachment_services
from app.attachments.events import HANDLERS as ATTACHMENT_HANDLERS
from app.files.settings import make_storage
from app.files.uploads import StreamingUploadRequest
from app.checklists import api as checklists_api
from app.checklists import views as checklists_views
from app.checklists.definitions import load_directory
from app.escalation import api as escalation_api
from app.escalation import views as escalation_views
from app.escalation.events import BATCH_HANDLERS as ESCALATION_BATCH_HANDLERS
from app.escalation.events import HANDLERS as ESCALATION_HANDLERS
from app.escalation.policy import load_routing
from app.srs.policy import load_sla
from app.cases import api as cases_api
from app.cases import views as cases_views
from app.cli import register_cli
from app.clock import SystemClock
from app.config import load_config
from app.db import sqlite_begin_immediate, sqlite_pragmas
from app.errors import DomainError
from app.extensions import api, csrf, db, login_manager, migrate
from app.health import blp as health_blp
from app.metrics import http as metrics_http
from app.notifications.services import BATCH_HANDLERS as NOTIFICATION_BATCH_HANDLERS
from app.notifications.services import HANDLERS as NOTIFICATION_HANDLERS
from app.outbox.dispatch import make_dispatcher
from app.scheduling.in_process import InProcessScheduler
from app.triage.logscan import scan_log
from app.triage.services import TriageSeam
from app.web import headers as security_headers
from app.web import single_sign_on as single_sign_on_views
from app.web import views as web_views
from app.accounts import views as accounts_views
from app.webhooks import views as webhooks_views
from app.payments import api as payments_api
from app.payments import claims
from app.triage import api as triage_api
from app.payments import list_views as payment_lists_views
from app.payments import views as payments_views
from app.payments import webhooks as payments_webhooks
from app.payments.jobs import OUTBOX_BATCH_HANDLERS as PAYMENT_BATCH_HANDLERS
from app.payments.jobs import OUTBOX_HANDLERS as PAYMENT_HANDLERS
from app.live import streams as live_streams
from app.live.broker import make_broker
from app.rma import api as rma_api
from app.partner_status import api as partner_status_api
from app.partner_status import views as partner_status_views
from app.programmes import api as programmes_api
from app.programmes import views as programmes_views
from app.programmes.notifications import HANDLERS as PROGRAMME_HANDLERS
from app.partner_status.notifications import HANDLERS as PARTNER_STATUS_HANDLERS
from app.srs import api as srs_api
from app.srs import attachments_api as sr_attachments_api
from app.srs import notifications as sr_notifications
from app.srs import setup as srs_setup
from app.srs import views as srs_views
from app.uow import LIVE_BROKER
from app.webhooks import api as webhooks_api
from app.contracts import api as contracts_api
from app.contracts import views as contracts_views
from app.imports import api as imports_api
from app.integrations import api as integrations_api
from app.integrations import views as integrations_views
from app.imports import views as imports_views
from app.imports.services import HANDLERS as IMPORT_HANDLERS
from app.webhooks.services import HANDLERS as WEBHOOK_HANDLERS
from app.triage import views as triage_views

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
API_BLUEPRINTS = (accounts_api.blp, cases_api.blp, checklists_api.blp, attachments_api.blp,
                  escalation_api.blp, payments_api.blp, triage_api.blp, srs_api.blp, rma_api.blp, webhooks_api.blp,
                  sr_attachments_api.blp, administration_api.blp, users_api.blp, programmes_api.blp,
                  contracts_api.blp, imports_api.blp, integrations_api.blp, partner_status_api.blp)
# Endpoints that take large multipart bodies and enforce MAX_UPLOAD_BYTES themselves.
UPLOAD_ENDPOINTS = {"attachments.upload", "cases_web.upload_attachment", "sr_attachments.upload",
                    "programmes.import_sales", "programmes_web.import_sales",
                    "srs_web.upload_attachment"}
# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: settings from the environment, then `config` on top."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.request_class = StreamingUploadRequest
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (sign-in throttling) and scheme (secure cookies, HSTS) as the
        # trusted proxies saw them; without it those headers are ignored, as any client could forge them.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    # Malformed checklist, routing or SLA files stop the start-up with file, line and reason.
    app.extensions["checklists"] = load_directory(Path(app.config["CHECKLISTS_DIR"]))
    app.extensions["routing"] = load_routing(Path(app.config["ROUTING_FILE"]))
    app.extensions["sla_targets"] = load_sla(Path(app.config["SLA_FILE"]))
    app.extensions["attachment_storage"] = make_storage(app.config)
    # What `flask attachments migrate` moves: each feature names the files its rows keep.
    app.extensions["kept_files"] = (attachment_services.kept_files, claims.kept_files)
    app.extensions["triage"] = TriageSeam()
    app.extensions["log_scanner"] = lambda stream: scan_log(stream).to_dict()
    srs_setup.init_app(app)
    app.extensions[LIVE_BROKER] = make_broker(app.config["REDIS_URL"])
    app.extensions[live_streams.LIMITS] = live_streams.make_limiter(app.config)
    logs.configure(app.config["LOG_FORMAT"])
    _announce_environment(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", sqlite_pragmas)
            event.listen(db.engine, "begin", sqlite_begin_immediate)

    web_sessions.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Please sign in."
    csrf.init_app(app)

    api.init_app(app)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens only, never cookies: nothing to forge
    app.register_blueprint(health_blp)
    metrics_http.init_app(app)
    app.register_blueprint(web_views.blp)
    app.register_blueprint(single_sign_on_views.blp)
    app.register_blueprint(cases_views.blp)
    app.register_blueprint(checklists_views.blp)
    app.register_blueprint(escalation_views.blp)
    app.register_blueprint(payments_views.blp)
    app.register_blueprint(payment_lists_views.blp)
    app.register_blueprint(accounts_views.blp)
    app.register_blueprint(account_views.blp)
    app.register_blueprint(users_views.blp)
    app.register_blueprint(webhooks_views.blp)
    app.register_blueprint(administration_views.blp)
    app.register_blueprint(payments_webhooks.blp)
    app.register_blueprint(srs_views.blp)
    app.register_blueprint(triage_views.blp)
    app.register_blueprint(contracts_views.blp)
    app.register_blueprint(imports_views.blp)
    app.register_blueprint(programmes_views.blp)
    app.register_blueprint(integrations_views.blp)
    app.register_blueprint(partner_status_views.blp)

    app.before_request(_limit_body_size)
    logs.init_app(app)  # first of the request hooks, whatever was registered before
    rate_limits.init_app(app)
    app.before_request(authenticate_api_request)
    security_headers.init_app(app)
    app.before_request(refuse_unstorable_request)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(IntegrityError, integrity_error)
    app.register_error_handler(HTTPException, http_error)

    app.extensions["clock"] = SystemClock()
    app.extensions["outbox_handlers"] = {**NOTIFICATION_HANDLERS, **ESCALATION_HANDLERS,
                                         **ATTACHMENT_HANDLERS, **PAYMENT_HANDLERS,
                                         **sr_notifications.HANDLERS, **WEBHOOK_HANDLERS, **ACCOUNT_MAIL_HANDLERS,
                                         **PROGRAMME_HANDLERS, **PARTNER_STATUS_HANDLERS, **IMPORT_HANDLERS}
    app.extensions["outbox_batch_handlers"] = {**PAYMENT_BATCH_HANDLERS, **NOTIFICATION_BATCH_HANDLERS,
                                               **sr_notifications.BATCH_HANDLERS, **ESCALATION_BATCH_HANDLERS}
    app.extensions["outbox_dispatch"] = make_dispatcher(app)
    if app.config["SCHEDULER_IN_PROCESS"]:
        app.extensions["scheduler"] = InProcessScheduler(app)
        app.before_request(_start_scheduler)
    register_cli(app)
    return app


def _announce_environment(app: Flask) -> None:
    """Say which GTAC_ENV is in force, so that a production install that forgot it is noticed."""
    mode = app.config["GTAC_ENV"]
    if mode == "production":
        log.info("GTAC Triage starting in production mode")
    elif mode == "development":
        log.warning("GTAC Triage starting in DEVELOPMENT mode (GTAC_ENV unset or 'development'): secrets are "
                    "derived from this installation's instance folder and demo data may be seeded; "
                    "set GTAC_ENV=production for a real deployment")


def _start_scheduler() -> None:
    # With the first request a process serves: CLI commands (migrations, imports) run no jobs.
    current_app.extensions["scheduler"].start()


def _limit_body_size() -> None:
    # Werkzeug answers 413 as soon as a body is read past this limit.
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"] + MULTIPART_OVERHEAD
    else:
        request.max_content_length = current_app.config["MAX_BODY_BYTES"]
