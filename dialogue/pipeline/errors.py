"""What the pipeline refuses: each error names its code and field for the entry point."""

from __future__ import annotations


class PipelineError(Exception):
    """A message the pipeline refuses, before anything of it is saved."""

    code = "invalid"
    field = "content"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMessage(PipelineError):
    pass


class SessionNotFound(PipelineError):
    """No such session of this customer (or the tenant is inactive)."""

    code = "not_found"
    field = "session"


class SessionEnded(PipelineError):
    code = "session_ended"
    field = "session"


class DuplicateInFlight(PipelineError):
    """The same channel message id arrived before and its answer is not ready yet."""

    code = "duplicate"
    field = "channel_message_id"

    def __init__(self, message: str, *, original_id: int) -> None:
        super().__init__(message)
        self.original_id = original_id


class TooManyRequests(PipelineError):
    code = "throttled"
    field = "session"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
