"""Configuration defaults and the checks that refuse an unsafe start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "insecure-development-secret"  # noqa: S105 - refused outside development

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATA_DIR": "./instance",
    "DATABASE_URL": None,
    "TIMEZONE": "Europe/Amsterdam",
    "SMTP_URL": None,
    "MAIL_FROM": "decoy@localhost",
    "ORIGIN": "decoy.invalid/audit",
    "MAX_ATTACHMENT_BYTES": 50 * 1024 * 1024,
    # The largest export file an import takes (a ZIP with its media), and what a ZIP may unpack to.
    "MAX_IMPORT_BYTES": 2 * 1024**3,
    "MAX_IMPORT_UNPACKED_BYTES": 8 * 1024**3,
    # Where attachment content lives: "files" (DATA_DIR/attachments) or "database" (chunked rows,
    # committed with the message; for several app servers on PostgreSQL). See docs/operations.md.
    "ATTACHMENT_STORE": "files",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "LOCKOUT_THRESHOLD": 5,
    "LOCKOUT_MINUTES": 15,
    "LOGIN_RATE_LIMIT": 30,
    "LOGIN_RATE_WINDOW_MINUTES": 15,
    "TOKEN_DEFAULT_DAYS": 90,
    "PREFERRED_URL_SCHEME": "http",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # None: Secure unless DECOY_ENV is development (or testing), see finalise.
    "SESSION_COOKIE_SECURE": None,
    # How many reverse proxies in front of Decoy append to X-Forwarded-For / -Proto (0: trust none).
    "PROXY_HOPS": 0,
    "SESSION_COOKIE_NAME": "decoy_session",
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ["en", "nl"],
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "REVIEW_EXPIRY_NOTICE_DAYS": 14,
    "REVIEW_GRACE_DAYS": 3,
    "REVIEW_TRIGGERED_DUE_DAYS": 2,
    "REVIEW_HORIZON_DAYS": 400,
    "CHECKPOINT_NOTICE_HOUR": 7,
    "OUTBOX_MAX_ATTEMPTS": 25,
    "SMTP_TIMEOUT_SECONDS": 10,
    "SCHEDULER_LOCK_WAIT_SECONDS": 60,
    # A capture session open longer than this raises a notice to the operation's supervisors.
    "CAPTURE_SESSION_NOTICE_HOURS": 12,
    # A suspect's notification (art. 126bb Sv) is due this many days after their operation was closed.
    "NOTIFICATION_DUE_DAYS": 30,
    # A safeguarding case's first protective action is due this many hours after the case opened.
    "SAFEGUARDING_DUE_HOURS": 24,
    # The witnesses each new checkpoint is sent to: "URL=VERIFIER-KEY", comma-separated (docs/operations.md).
    "WITNESSES": "",
    "WITNESS_TIMEOUT_SECONDS": 10,
    # Time-stamp authorities (RFC 3161) each checkpoint is sent to (comma-separated URLs), and the PEM file
    # of the certificates their tokens must chain to.
    "TSA_URL": "",
    "TSA_CERTS": "",
    # The address people open Decoy at (https://decoy.example.police): e-mails carry links under it. Without
    # it an e-mail names the page by its path only.
    "PUBLIC_URL": "",
}

#: Environment variables read on top of every other source, without their ``DECOY_`` prefix.
ENVIRONMENT_KEYS = (
    "ENV",
    "SECRET_KEY",
    "DATA_DIR",
    "DATABASE_URL",
    "TIMEZONE",
    "SMTP_URL",
    "MAIL_FROM",
    "ORIGIN",
    "MAX_ATTACHMENT_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_UNPACKED_BYTES",
    "ATTACHMENT_STORE",
    "SESSION_COOKIE_SECURE",
    "PROXY_HOPS",
    "CAPTURE_SESSION_NOTICE_HOURS",
    "NOTIFICATION_DUE_DAYS",
    "SAFEGUARDING_DUE_HOURS",
    "WITNESSES",
    "WITNESS_TIMEOUT_SECONDS",
    "TSA_URL",
    "TSA_CERTS",
    "PUBLIC_URL",
)

_INTEGER_KEYS = {
    "MAX_ATTACHMENT_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_UNPACKED_BYTES",
    "PROXY_HOPS",
    "CAPTURE_SESSION_NOTICE_HOURS",
    "NOTIFICATION_DUE_DAYS",
    "SAFEGUARDING_DUE_HOURS",
    "WITNESS_TIMEOUT_SECONDS",
}
_BOOLEAN_KEYS = {"SESSION_COOKIE_SECURE"}
ATTACHMENT_STORES = ("files", "database")


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; Decoy refuses to start."""


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Read the ``DECOY_*`` variables that are set."""
    found: dict[str, Any] = {}
    for key in ENVIRONMENT_KEYS:
        value = environ.get(f"DECOY_{key}")
        if value is None or value == "":
            continue
        if key in _INTEGER_KEYS:
            try:
                found[key] = int(value)
            except ValueError as error:
                raise ConfigurationError(f"DECOY_{key} must be a whole number, not {value!r}") from error
        elif key in _BOOLEAN_KEYS:
            found[key] = value.strip().lower() in {"1", "true", "yes", "on"}
        else:
            found[key] = value
    return found


def finalise(config: dict[str, Any]) -> None:
    """Derive dependent settings and refuse unsafe ones."""
    data_dir = Path(config["DATA_DIR"]).resolve()
    config["DATA_DIR"] = str(data_dir)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'decoy.db'}"
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        secret_file = data_dir / "keys" / "session.key"
        if secret_file.is_file():
            config["SECRET_KEY"] = secret_file.read_text().strip()
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY and config["ENV"] not in {"development", "testing"}:
        raise ConfigurationError(
            "DECOY_SECRET_KEY is not set and the data directory holds no session key: "
            "run `decoy init` or set DECOY_SECRET_KEY (DECOY_ENV=development allows the default)."
        )
    store = str(config.get("ATTACHMENT_STORE") or "files").strip().lower()
    if store not in ATTACHMENT_STORES:
        raise ConfigurationError(
            f"DECOY_ATTACHMENT_STORE must be one of {', '.join(ATTACHMENT_STORES)}, not {store!r}"
        )
    config["ATTACHMENT_STORE"] = store
    if config.get("SESSION_COOKIE_SECURE") is None:
        # The session cookie travels over TLS only, except on a developer's or a test's plain HTTP.
        config["SESSION_COOKIE_SECURE"] = config["ENV"] not in {"development", "testing"}
    hops = config.get("PROXY_HOPS") or 0
    if not isinstance(hops, int) or not 0 <= hops <= 5:
        raise ConfigurationError(f"DECOY_PROXY_HOPS must be between 0 and 5, not {hops!r}")
    hours = config.get("CAPTURE_SESSION_NOTICE_HOURS")
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
        raise ConfigurationError(f"DECOY_CAPTURE_SESSION_NOTICE_HOURS must be 1 or more, not {hours!r}")
    days = config.get("NOTIFICATION_DUE_DAYS")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise ConfigurationError(f"DECOY_NOTIFICATION_DUE_DAYS must be between 1 and 3650, not {days!r}")
    due = config.get("SAFEGUARDING_DUE_HOURS")
    if not isinstance(due, int) or isinstance(due, bool) or not 1 <= due <= 720:
        raise ConfigurationError(f"DECOY_SAFEGUARDING_DUE_HOURS must be between 1 and 720, not {due!r}")
    config["WITNESSES"] = parse_witnesses(config.get("WITNESSES") or "")
    config["TSA_URLS"] = parse_authorities(config.get("TSA_URL") or "", config.get("TSA_CERTS") or "")
    wait = config.get("WITNESS_TIMEOUT_SECONDS")
    if not isinstance(wait, int) or isinstance(wait, bool) or not 1 <= wait <= 120:
        raise ConfigurationError(f"DECOY_WITNESS_TIMEOUT_SECONDS must be between 1 and 120, not {wait!r}")
    config["PUBLIC_URL"] = parse_public_url(config.get("PUBLIC_URL") or "")
    config["PERMANENT_SESSION_LIFETIME"] = config["SESSION_ABSOLUTE_HOURS"] * 3600
    config["BABEL_TRANSLATION_DIRECTORIES"] = str(resource_dir("translations"))


def parse_public_url(value: str) -> str:
    """DECOY_PUBLIC_URL without its trailing slash: an http(s) address with a host and nothing after the
    path ("" when not set)."""
    from urllib.parse import urlsplit

    text = value.strip().rstrip("/")
    if not text:
        return ""
    address = urlsplit(text)
    if address.scheme not in ("http", "https") or not address.hostname or address.query or address.fragment \
            or address.username or address.password:
        raise ConfigurationError(
            f"DECOY_PUBLIC_URL must be an http(s) address such as https://decoy.example.police, not {value!r}"
        )
    return text


def parse_witnesses(value: str | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """DECOY_WITNESSES as (URL, verifier key) pairs, each checked: an http(s) URL and a cosignature/v1
    verifier key (``name+id+key``), no witness twice."""
    from urllib.parse import urlsplit

    from audit.cosignature import CosignatureVerifier
    from audit.errors import CheckpointError

    if isinstance(value, tuple):
        return value
    found: list[tuple[str, str]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        url, equals, key = item.partition("=")
        address = urlsplit(url.strip())
        if not equals or address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigurationError(f"DECOY_WITNESSES: {item!r} is not URL=VERIFIER-KEY with an http(s) URL")
        try:
            verifier = CosignatureVerifier.from_key_text(key.strip())
        except CheckpointError as error:
            raise ConfigurationError(f"DECOY_WITNESSES: the key of {url.strip()!r}: {error}") from error
        if any(known == verifier.key_text() for _url, known in found):
            raise ConfigurationError(f"DECOY_WITNESSES names the witness {verifier.name!r} twice")
        found.append((url.strip().rstrip("/"), verifier.key_text()))
    return tuple(found)


def parse_authorities(urls: str, certificates: str) -> tuple[str, ...]:
    """DECOY_TSA_URL as a tuple of http(s) URLs; DECOY_TSA_CERTS must then name a readable PEM file with a
    root certificate their tokens chain to."""
    from urllib.parse import urlsplit

    from audit.timestamp import StampError, load_certificates

    found: list[str] = []
    for url in (part.strip() for part in urls.split(",")):
        if not url:
            continue
        address = urlsplit(url)
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigurationError(f"DECOY_TSA_URL: {url!r} is not an http(s) URL")
        if url not in found:
            found.append(url)
    if found:
        if not certificates:
            raise ConfigurationError(
                "DECOY_TSA_URL is set: DECOY_TSA_CERTS must name the authorities' certificates (PEM)"
            )
        try:
            load_certificates(Path(certificates).read_bytes())
        except (OSError, StampError) as error:
            raise ConfigurationError(f"DECOY_TSA_CERTS: {certificates}: {error}") from error
    return tuple(found)


def resource_dir(name: str) -> Path:
    """Locate a shipped resource folder (installed inside the package, or beside it in a checkout)."""
    package = Path(__file__).resolve().parent
    inside = package / name
    return inside if inside.is_dir() else package.parent / name
