"""Errors raised by kb, each with the HTTP status an adapter should answer with.

    KbError
    ├── BadInput (400)
    │   └── QuestionTooLong (422)
    ├── NotFound (404)
    ├── IndexMissing (503)
    ├── ModelError (500)
    └── StoreError (500)
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
