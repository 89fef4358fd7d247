"""Settings, read from the environment when the application is created.

The embedded default (no environment at all) is a working demo: SQLite in the
instance folder and jobs run in-process. Production (GTAC_ENV=production)
refuses to start without a secret key and a database URL.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or invalid; raised at start-up, never later."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, name: str, default: int, least: int | None = None) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if least is not None and value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")
    return value


def _choice(env: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _instance_secret(instance_path: Path) -> str:
    """A per-installation secret for the embedded demo, kept across restarts."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(instance_path: str, env: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    mode = env.get("GTAC_ENV", "development")
    if mode not in {"development", "production", "testing"}:
        raise ConfigError(f"GTAC_ENV must be development, production or testing, got {mode!r}")
    production = mode == "production"
    instance = Path(instance_path)

    secret = env.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set in production")
        secret = _instance_secret(instance)

    database_url = env.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set in production")
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'gtac.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    project = Path(__file__).resolve().parent.parent
    return {
        "GTAC_ENV": mode,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url, env),
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Bearer token for GET /metrics (app/metrics/http.py); unset: loopback only, never in production.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # Requests per token and per client address on the API, and sign-in attempts per address
        # (app/rate_limits.py); off in the test suite, whose every request comes from one address.
        "RATE_LIMITS_ENABLED": _bool(env.get("RATE_LIMITS_ENABLED"), default=mode != "testing"),
        "RATE_LIMIT_PER_TOKEN": env.get("RATE_LIMIT_PER_TOKEN") or "600 per minute",
        "RATE_LIMIT_PER_ADDRESS": env.get("RATE_LIMIT_PER_ADDRESS") or "1200 per minute",
        "RATE_LIMIT_SIGN_IN": env.get("RATE_LIMIT_SIGN_IN") or "30 per minute",
        # Requests an integration signs (the claims platform's pushes), counted per integration.
        "RATE_LIMIT_PER_INTEGRATION": env.get("RATE_LIMIT_PER_INTEGRATION") or "1200 per minute",
        # JSON lines (one object per line, with the request id) unless "text" is asked for.
        "LOG_FORMAT": _choice(env, "LOG_FORMAT", ("json", "text"), "json"),
        # Outbox events run on RQ when Redis is configured, else in-process.
        "JOBS_EAGER": _bool(env.get("JOBS_EAGER"), default=False),
        "OUTBOX_RELAY_INTERVAL": _int(env, "OUTBOX_RELAY_INTERVAL", 5),
        # The periodic jobs (app/schedule.py) run in the web process on the embedded default; with
        # REDIS_URL, `flask scheduler` enqueues them on RQ instead.
        "SCHEDULER_IN_PROCESS": _bool(env.get("SCHEDULER_IN_PROCESS"),
                                      default=not env.get("REDIS_URL") and mode != "testing"),
        "WEBHOOK_RETRY_INTERVAL": _int(env, "WEBHOOK_RETRY_INTERVAL", 30),
        "PAYMENTS_SWEEP_INTERVAL": _int(env, "PAYMENTS_SWEEP_INTERVAL", 60),
        "PAYMENTS_SWEEP_STALLED_AFTER": _int(env, "PAYMENTS_SWEEP_STALLED_AFTER", 300),
        "PAYMENTS_SWEEP_REFRESH_AFTER": _int(env, "PAYMENTS_SWEEP_REFRESH_AFTER", 900),
        "IDEMPOTENCY_PURGE_INTERVAL": _int(env, "IDEMPOTENCY_PURGE_INTERVAL", 3600),
        "ATTACHMENTS_SWEEP_INTERVAL": _int(env, "ATTACHMENTS_SWEEP_INTERVAL", 3600),
        "ATTACHMENTS_STALE_UPLOAD_HOURS": _int(env, "ATTACHMENTS_STALE_UPLOAD_HOURS", 24),
        # How long a batch job waits for more of its topic's events before it takes them (on RQ).
        "OUTBOX_BATCH_LINGER_MS": _int(env, "OUTBOX_BATCH_LINGER_MS", 200),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_FROM": env.get("MAIL_FROM", "GTAC Triage <noreply@gtac-triage.example>"),
        # The whole SMTP conversation, not each read: a server that trickles cannot hold a worker longer.
        "MAIL_DEADLINE_SECONDS": _int(env, "MAIL_DEADLINE_SECONDS", 60),
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Largest JSON or form body; uploads have their own limit.
        "MAX_BODY_BYTES": _int(env, "MAX_BODY_BYTES", 1024 * 1024),
        "MAX_UPLOAD_BYTES": _int(env, "MAX_UPLOAD_BYTES", 2 * 1024**3),
        # Largest contracts or certifications file an upload may bring (100,000 contract lines are ~10 MB).
        "IMPORT_MAX_BYTES": _int(env, "IMPORT_MAX_BYTES", 100 * 1024**2),
        # An import being applied whose worker gave no sign of life for IMPORT_STALLED_AFTER seconds is
        # started again (app/imports/services.py take_over_stalled), and failed once it was started
        # IMPORT_MAX_ATTEMPTS times. The worker's sign is each batch of 2,000 lines, seconds apart; but
        # before the first batch comes the copy of up to IMPORT_MAX_BYTES from the store, after the last
        # the commit of the whole file's writes, and a batch may wait for rows another import is
        # writing. Ten minutes is well past the first two. A worker taken for dead that was only slow,
        # or waiting, writes nothing: it finds the run is no longer its own and rolls back.
        "IMPORT_SWEEP_INTERVAL": _int(env, "IMPORT_SWEEP_INTERVAL", 60),
        "IMPORT_STALLED_AFTER": _int(env, "IMPORT_STALLED_AFTER", 600, least=60),
        # The first try and two more: a deploy or a lost machine is survived, a file that kills its
        # worker every time is not tried for ever.
        "IMPORT_MAX_ATTEMPTS": _int(env, "IMPORT_MAX_ATTEMPTS", 3, least=1),
        "CHECKLISTS_DIR": env.get("CHECKLISTS_DIR") or str(project / "checklists"),
        "ROUTING_FILE": env.get("ROUTING_FILE") or str(project / "app" / "escalation" / "routing.yaml"),
        "SLA_FILE": env.get("SLA_FILE") or str(project / "app" / "srs" / "sla.yaml"),
        "ATTACHMENTS_DIR": env.get("ATTACHMENTS_DIR") or str(instance / "attachments"),
        **_attachments(env),
        # SPEC §5: PW partners escalate only S1, if at all.
        "PW_MAY_ESCALATE_S1": _bool(env.get("PW_MAY_ESCALATE_S1"), default=True),
        **_srs(env, project, production),
        **_payments(env, instance, production, secret),
        **_integrations(env, production),
        **_single_sign_on(env),
        "LOGIN_MAX_FAILURES": _int(env, "LOGIN_MAX_FAILURES", 5),
        "LOGIN_FAILURE_WINDOW_SECONDS": _int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900),
        # Sign-in throttling (app/accounts/services.py authenticate): LOGIN_MAX_FAILURES per e-mail
        # and client address, this many per e-mail from all addresses, and a warning (never a
        # refusal) past LOGIN_ADDRESS_MAX_FAILURES from one address over all e-mails.
        "LOGIN_ACCOUNT_MAX_FAILURES": _int(env, "LOGIN_ACCOUNT_MAX_FAILURES", 50),
        "LOGIN_ADDRESS_MAX_FAILURES": _int(env, "LOGIN_ADDRESS_MAX_FAILURES", 100),
        # Proxies in front of the service that set X-Forwarded-For and X-Forwarded-Proto (0: none;
        # then those headers are ignored, since any client could send them).
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Argon2id cost; tests lower it, production keeps the library's defaults.
        "PASSWORD_TIME_COST": _int(env, "PASSWORD_TIME_COST", 3),
        "PASSWORD_MEMORY_COST": _int(env, "PASSWORD_MEMORY_COST", 65536),
        # Argon2 hashes running at once in one process, each holding PASSWORD_MEMORY_COST KiB.
        "PASSWORD_HASHES_AT_ONCE": _int(env, "PASSWORD_HASHES_AT_ONCE", 2, least=1),
        "PAGE_SIZE_DEFAULT": 25,
        "PAGE_SIZE_MAX": 100,
        # Web sessions are kept server-side (app/accounts/sessions.py) this long from sign-in.
        "SESSION_LIFETIME_HOURS": _int(env, "SESSION_LIFETIME_HOURS", 12),
        # How long an e-mailed invitation or password-reset link opens (app/accounts/links.py).
        "INVITATION_LINK_HOURS": _int(env, "INVITATION_LINK_HOURS", 24),
        "PASSWORD_RESET_LINK_HOURS": _int(env, "PASSWORD_RESET_LINK_HOURS", 24),
        # Encrypt those links' secrets while their e-mail waits in the outbox (unset: derived from SECRET_KEY).
        "ACCOUNT_LINK_ENCRYPTION_KEYS": fernet_keys(env.get("ACCOUNT_LINK_ENCRYPTION_KEYS"),
                                                    "ACCOUNT_LINK_ENCRYPTION_KEYS"),
        # Strict-Transport-Security on every answer in production (0: none); the proxy serves HTTPS.
        "HSTS_SECONDS": _int(env, "HSTS_SECONDS", 365 * 24 * 3600 if production else 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "GTAC Triage API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "basicAuth": {"type": "http", "scheme": "basic"},
                }
            },
            "security": [{"bearerAuth": []}],
        },
    }


def _engine_options(database_url: str, env: dict) -> dict:
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_size": _int(env, "DB_POOL_SIZE", 5),
        "max_overflow": _int(env, "DB_MAX_OVERFLOW", 10),
        # Recycling replaces connections the server may have dropped, without the round trip
        # that pre-ping adds to every checkout.
        "pool_recycle": _int(env, "DB_POOL_RECYCLE_SECONDS", 1800),
    }


def derived_secret(secret_key: str, purpose: str) -> str:
    """A secret of its own for `purpose`, derived from this installation's SECRET_KEY (outside production)."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def fernet_keys(raw: str | None, setting: str) -> list[str]:
    """The comma-separated Fernet keys of a setting; ConfigError at start-up for a malformed one."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in (raw or "").split(",") if key.strip()]
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigError(f"{setting} holds a key that is not a Fernet key") from exc
    return keys


def _payments(env: dict, instance: Path, production: bool, secret_key: str) -> dict:
    """Settings of the payments module (SPEC §8); secrets have no production default."""
    webhook_secret = env.get("PAYMENTS_WEBHOOK_SECRET")
    keys = fernet_keys(env.get("PAYEE_ENCRYPTION_KEYS"), "PAYEE_ENCRYPTION_KEYS")
    if production and not webhook_secret:
        raise ConfigError("PAYMENTS_WEBHOOK_SECRET must be set in production")
    if production and not keys:
        raise ConfigError("PAYEE_ENCRYPTION_KEYS must be set in production (flask payments generate-key)")
    try:
        timeout = float(env.get("PAYMENTS_PROVIDER_TIMEOUT") or 5)
    except ValueError as exc:
        raise ConfigError("PAYMENTS_PROVIDER_TIMEOUT must be a number of seconds") from exc
    return {
        "PAYMENTS_PROVIDER": env.get("PAYMENTS_PROVIDER") or "sandbox",
        "PAYMENTS_SANDBOX_URL": env.get("PAYMENTS_SANDBOX_URL") or "http://127.0.0.1:5055",
        "PAYMENTS_SANDBOX_API_KEY": env.get("PAYMENTS_SANDBOX_API_KEY") or "sandbox-key",
        # Never a published constant: a forgotten GTAC_ENV must not make forged webhooks verify.
        "PAYMENTS_WEBHOOK_SECRET": webhook_secret or derived_secret(secret_key, "payments-webhook"),
        "PAYMENTS_PROVIDER_TIMEOUT": timeout,
        # Claims above this many minor units need a second, different approver.
        "PAYMENTS_SECOND_APPROVAL_ABOVE": _int(env, "PAYMENTS_SECOND_APPROVAL_ABOVE", 1_000_000),
        "PAYMENTS_PROOF_MAX_BYTES": _int(env, "PAYMENTS_PROOF_MAX_BYTES", 25 * 1024 * 1024),
        "PAYMENTS_BANK_FILE_DIR": env.get("PAYMENTS_BANK_FILE_DIR") or str(instance / "bank_files"),
        "PAYMENTS_DEBTOR_NAME": env.get("PAYMENTS_DEBTOR_NAME") or "Extreme Partner Programmes",
        "PAYMENTS_DEBTOR_IBAN": env.get("PAYMENTS_DEBTOR_IBAN") or "DE89370400440532013000",
        "PAYMENTS_DEBTOR_BIC": env.get("PAYMENTS_DEBTOR_BIC") or "COBADEFFXXX",
        "PAYEE_ENCRYPTION_KEYS": keys,
    }


# The vendor's roles, the only ones an account made at its first single sign-on may get.
_VENDOR_ROLES = ("gtac_engineer", "gtac_manager", "programs", "vendor_admin")


# What the identity provider's client is built from (app/accounts/identity_provider.py): the first
# three must all be set for single sign-on to be offered.
OIDC_CLIENT_SETTINGS = ("OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_TIMEOUT_SECONDS")


def _single_sign_on(env: dict) -> dict:
    """OpenID Connect sign-in beside passwords (app/accounts/identity_provider.py): off unless the
    provider's address, a client id and its secret are all set."""
    issuer = (env.get("OIDC_ISSUER") or "").strip().rstrip("/") or None
    discovery = (env.get("OIDC_DISCOVERY_URL") or "").strip() or None
    if issuer and not discovery:
        discovery = f"{issuer}/.well-known/openid-configuration"
    client_id = env.get("OIDC_CLIENT_ID") or None
    client_secret = env.get("OIDC_CLIENT_SECRET") or None
    given = {"OIDC_ISSUER or OIDC_DISCOVERY_URL": discovery, "OIDC_CLIENT_ID": client_id,
             "OIDC_CLIENT_SECRET": client_secret}
    if any(given.values()) and not all(given.values()):
        missing = ", ".join(name for name, value in given.items() if not value)
        raise ConfigError(f"single sign-on needs {missing} as well")
    domain = (env.get("OIDC_AUTO_CREATE_DOMAIN") or "").strip().lower().lstrip("@") or None
    role = (env.get("OIDC_AUTO_CREATE_ROLE") or "gtac_engineer").strip()
    if role not in _VENDOR_ROLES:
        raise ConfigError(f"OIDC_AUTO_CREATE_ROLE must be one of the vendor's roles "
                          f"({', '.join(_VENDOR_ROLES)}), got {role!r}")
    return {
        "OIDC_DISCOVERY_URL": discovery,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        # The login page's button reads "Sign in with <this>".
        "OIDC_DISPLAY_NAME": (env.get("OIDC_DISPLAY_NAME") or "").strip() or "single sign-on",
        # Unknown e-mails of this domain (the vendor's own) get an account of OIDC_AUTO_CREATE_ROLE in
        # the vendor's organisation at their first sign-in; unset, nobody is created silently.
        "OIDC_AUTO_CREATE_DOMAIN": domain,
        "OIDC_AUTO_CREATE_ROLE": role,
        # Each call to the provider (discovery, keys, token) in total.
        "OIDC_TIMEOUT_SECONDS": _int(env, "OIDC_TIMEOUT_SECONDS", 10),
    }


def _attachments(env: dict) -> dict:
    """Where attachments are kept: the local folder (the embedded default) or an S3-compatible bucket."""
    storage = env.get("ATTACHMENTS_STORAGE") or "local"
    if storage not in ("local", "s3"):
        raise ConfigError(f"ATTACHMENTS_STORAGE must be local or s3, got {storage!r}")
    bucket = env.get("S3_BUCKET") or None
    if storage == "s3" and not bucket:
        raise ConfigError("ATTACHMENTS_STORAGE=s3 needs S3_BUCKET")
    downloads = env.get("S3_DOWNLOADS") or "stream"
    if downloads not in ("stream", "redirect"):
        raise ConfigError(f"S3_DOWNLOADS must be stream or redirect, got {downloads!r}")
    part_size = _int(env, "S3_PART_SIZE", 8 * 1024 * 1024)
    if part_size < 5 * 1024 * 1024:
        raise ConfigError("S3_PART_SIZE must be at least 5 MiB (5242880), the smallest part S3 takes")
    parts_in_flight = _int(env, "S3_PARTS_IN_FLIGHT", 2)
    if not 1 <= parts_in_flight <= 16:
        raise ConfigError("S3_PARTS_IN_FLIGHT must be between 1 and 16")
    return {
        "ATTACHMENTS_STORAGE": storage,
        "S3_BUCKET": bucket,
        # Another S3-compatible service (MinIO, Ceph, ...); unset for AWS itself.
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": env.get("S3_REGION") or None,
        "S3_PREFIX": env.get("S3_PREFIX", "attachments/"),
        # An upload takes a buffer of this size for the part filling, and one per part on its way
        # (S3_PARTS_IN_FLIGHT, sent at once while the next fills): all the memory it needs.
        "S3_PART_SIZE": part_size,
        "S3_PARTS_IN_FLIGHT": parts_in_flight,
        # stream: downloads pass through the application; redirect: to a signed address valid
        # S3_PRESIGN_SECONDS, once the application has authorised the download.
        "S3_DOWNLOADS": downloads,
        "S3_PRESIGN_SECONDS": _int(env, "S3_PRESIGN_SECONDS", 60),
        "S3_TIMEOUT_SECONDS": _int(env, "S3_TIMEOUT_SECONDS", 30),
        "S3_ADDRESSING_STYLE": env.get("S3_ADDRESSING_STYLE") or "auto",
    }


def _integrations(env: dict, production: bool) -> dict:
    """Settings of the claims platform's integration (app/integrations)."""
    keys = fernet_keys(env.get("INTEGRATION_SECRET_KEYS"), "INTEGRATION_SECRET_KEYS")
    if production and not keys:
        raise ConfigError("INTEGRATION_SECRET_KEYS must be set in production (flask srs generate-key makes one)")
    return {
        # Fernet keys, newest first, that encrypt integrations' signing secrets at rest.
        "INTEGRATION_SECRET_KEYS": keys,
        "INTEGRATION_CALLBACK_TIMEOUT_SECONDS": _int(env, "INTEGRATION_CALLBACK_TIMEOUT_SECONDS", 5),
        "INTEGRATION_CALLBACK_MAX_ATTEMPTS": _int(env, "INTEGRATION_CALLBACK_MAX_ATTEMPTS", 12),
        # A CA file trusted for callback URLs besides the public ones (a platform behind the vendor's own CA).
        "INTEGRATION_CALLBACK_CA_BUNDLE": env.get("INTEGRATION_CALLBACK_CA_BUNDLE") or None,
    }


def _srs(env: dict, project: Path, production: bool) -> dict:
    """Settings of GTAC's SR work (SPEC §6)."""
    webhook_keys = fernet_keys(env.get("SR_WEBHOOK_SECRET_KEYS"), "SR_WEBHOOK_SECRET_KEYS")
    if production and not webhook_keys:
        raise ConfigError("SR_WEBHOOK_SECRET_KEYS must be set in production (flask srs generate-key)")
    return {
        # The partner may reopen an SR this long after the solution (or the closure).
        "SR_REOPEN_WINDOW_HOURS": _int(env, "SR_REOPEN_WINDOW_HOURS", 14 * 24),
        "SR_CALENDARS_FILE": env.get("SR_CALENDARS_FILE") or str(project / "app" / "srs" / "calendars.yaml"),
        # A clock is near its breach once this share of its target is used.
        "SR_NEAR_BREACH_PERCENT": _int(env, "SR_NEAR_BREACH_PERCENT", 80),
        "SR_WATCH_INTERVAL": _int(env, "SR_WATCH_INTERVAL", 60),
        # e.g. "gtac-{queue}@vendor.example": a queue's own mailbox for its SLA alerts.
        "SR_QUEUE_MAILBOX": env.get("SR_QUEUE_MAILBOX") or None,
        "SR_EVENTS_HEARTBEAT_SECONDS": _int(env, "SR_EVENTS_HEARTBEAT_SECONDS", 15),
        # A stream ends after this long; the browser reconnects with Last-Event-ID and misses nothing.
        "SR_EVENTS_MAX_SECONDS": _int(env, "SR_EVENTS_MAX_SECONDS", 300),
        # Live streams a user may hold at once (across processes with Redis), and a web process may
        # serve: keep the latter well below its threads, so ordinary requests always find one.
        "SR_EVENTS_MAX_PER_USER": _int(env, "SR_EVENTS_MAX_PER_USER", 5),
        "SR_EVENTS_MAX_PER_PROCESS": _int(env, "SR_EVENTS_MAX_PER_PROCESS", 16),
        "SR_WEBHOOK_TIMEOUT_SECONDS": _int(env, "SR_WEBHOOK_TIMEOUT_SECONDS", 5),
        "SR_WEBHOOK_MAX_ATTEMPTS": _int(env, "SR_WEBHOOK_MAX_ATTEMPTS", 8),
        # Webhooks to loopback and private addresses: off, except for test suites and demos that
        # run their receivers on this machine (app/srs/webhook_urls.py).
        "SR_WEBHOOK_ALLOW_PRIVATE": _bool(env.get("SR_WEBHOOK_ALLOW_PRIVATE")),
        # Fernet keys, newest first, that encrypt webhook signing secrets at rest.
        "SR_WEBHOOK_SECRET_KEYS": webhook_keys,
    }
