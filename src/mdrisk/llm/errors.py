"""What can go wrong talking to an endpoint, each worded for the analyst who has to fix it."""

from __future__ import annotations


class LLMError(Exception):
    """The endpoint could not give an answer. The CLI prints the message and exits 1."""


class LLMConfigError(LLMError):
    """The endpoint settings are missing or malformed (a flag or an environment variable)."""


class EndpointNotConfigured(LLMConfigError):
    """No endpoint is set: the LLM layer is off."""


class EndpointUnreachable(LLMError):
    """No connection could be made, or it broke before an answer arrived."""


class EndpointTimeout(LLMError):
    """The endpoint did not answer within the configured time."""


class EndpointHTTPError(LLMError):
    """The endpoint answered with an HTTP error status."""

    def __init__(
        self, message: str, status: int, body_excerpt: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after


class EndpointBadResponse(LLMError):
    """The endpoint answered, but not with an OpenAI-style chat completion in JSON."""
