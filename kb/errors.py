"""Errors raised by kb, each with the HTTP status an adapter should answer with.

    KbError
    ├── BadInput (400)
    │   └── QuestionTooLong (422)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── RateLimited (429)
    ├── IndexMissing (503)
    ├── ModelError (500)
    └── StoreError (500)
        └── Unavailable (503)
"""


class KbError(Exception):
    """Base of every error kb raises on purpose."""

    status = 500
    code = "internal"


class BadInput(KbError):
    """The request or input cannot be used as given."""

    status = 400
    code = "bad_input"


class QuestionTooLong(BadInput):
    """A question or query is longer than the configured limit."""

    status = 422
    code = "too_long"


class Unauthorized(KbError):
    """No valid token or session came with a request that needs one."""

    status = 401
    code = "unauthorized"


class Forbidden(KbError):
    """The user's role does not allow this."""

    status = 403
    code = "forbidden"


class RateLimited(KbError):
    """Too many requests from one user; ``retry_after`` says when to come back."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(KbError):
    """The requested document or item does not exist."""

    status = 404
    code = "not_found"


class IndexMissing(KbError):
    """No index has been built yet in the index directory."""

    status = 503
    code = "no_index"


class ModelError(KbError):
    """The embedding model cannot be built or loaded."""

    code = "model"


class StoreError(KbError):
    """The index or data database cannot be read or written."""

    code = "store"


class Unavailable(StoreError):
    """The shared database (PostgreSQL) cannot be reached for now: retry shortly."""

    status = 503
    code = "database_unavailable"
