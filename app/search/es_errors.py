"""Elasticsearch failures in words: what /readyz, the log and a 503 say; never a host or a secret."""

from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ApiError, AuthenticationException, AuthorizationException, TransportError

from app.search.backend import BackendUnavailable

# Statuses that mean "not now" rather than "wrong request".
_UNAVAILABLE = frozenset({429, 502, 503, 504})


def describe_failure(exc: Exception) -> str:
    """Why Elasticsearch could not be used, in words an operator can act on; no host, no secret."""
    # The transport's own message is terse ("TLS error"); the reason is in its repr and cause.
    text = f"{exc!r} {exc.__cause__!r}"
    if isinstance(exc, AuthenticationException):
        return "credentials refused (HTTP 401): check ELASTICSEARCH_API_KEY or the user and password"
    if isinstance(exc, AuthorizationException):
        return "permission denied (HTTP 403): the API key or user lacks a privilege this service needs"
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} ({exc.error})"
    if "CERTIFICATE_VERIFY_FAILED" in text or "fingerprint" in text.lower():
        return "TLS certificate not trusted: check ELASTICSEARCH_CA_CERTS or ELASTICSEARCH_SSL_FINGERPRINT"
    if "WRONG_VERSION_NUMBER" in text or "SSL" in text:
        return "TLS handshake failed: does ELASTICSEARCH_URL use the scheme the cluster speaks (http/https)?"
    if "RemoteDisconnected" in text or "without response" in text or "reset by peer" in text:
        return "connection closed without an answer: a cluster with TLS needs an https:// ELASTICSEARCH_URL"
    if "timed out" in text.lower() or "Timeout" in type(exc).__name__:
        return "no answer within the timeout (the cluster is hanging or overloaded)"
    return f"cannot be reached ({type(exc).__name__})"


@contextmanager
def reachable() -> Iterator[None]:
    """Connection trouble, overload, a red index and refused credentials become BackendUnavailable;
    the message names no host or secret."""
    try:
        yield
    except TransportError as exc:
        raise BackendUnavailable(f"Elasticsearch {describe_failure(exc)}.") from exc
    except (AuthenticationException, AuthorizationException) as exc:
        raise BackendUnavailable(f"Elasticsearch: {describe_failure(exc)}.") from exc
    except ApiError as exc:
        if exc.meta.status in _UNAVAILABLE:
            raise BackendUnavailable(f"Elasticsearch is unavailable (HTTP {exc.meta.status}).") from exc
        raise
