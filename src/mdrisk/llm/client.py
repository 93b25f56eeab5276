"""One client for every OpenAI-compatible endpoint: ``POST …/v1/chat/completions``.

Hosted services, Ollama, vLLM and the llama.cpp servers all take the same request; they differ
in how a JSON schema for the answer is passed. The client starts with the form the endpoint
kind is known to accept and, when the endpoint rejects it (HTTP 400 or 422), falls back to the
next weaker form, remembering what worked. Connection failures, 429 and 5xx answers are retried
a bounded number of times with backoff. A timeout is not: a local server goes on generating
the answer nobody waits for, and a retry would queue behind it. Everything else fails at once
with a message that says what to check.

The timeout bounds one answer as a whole: every try, every wait between tries (Retry-After
is obeyed up to a minute, and never past the time left) and every byte of the body, however
slowly the server sends it. The body is at most MAX_RESPONSE_BYTES and its JSON at most
MAX_JSON_DEPTH deep.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mdrisk.llm.bounded_json import TooDeep, loads_bounded
from mdrisk.llm.config import EndpointConfig
from mdrisk.llm.deadline import Deadline, opened_within, read_within
from mdrisk.llm.errors import (
    EndpointBadResponse,
    EndpointHTTPError,
    EndpointTimeout,
    EndpointUnreachable,
    LLMError,
)

ResponseFormat = Literal["json_schema", "json_object_schema", "json_object", "none"]
# Strongest first: a named JSON schema (OpenAI, vLLM, Ollama, llama-server), a schema inside a
# json_object request (llama-cpp-python, llama-server), JSON without a schema, plain text.
FORMAT_FALLBACK: tuple[ResponseFormat, ...] = (
    "json_schema",
    "json_object_schema",
    "json_object",
    "none",
)
_FIRST_FORMAT: dict[str, ResponseFormat] = {"llamacpp": "json_object_schema"}

MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_FORMAT_REJECTED_STATUSES = frozenset({400, 422})
_MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str

    def as_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class OutputSchema:
    """A JSON schema the answer must follow, under a name the endpoint may show."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class ChatResult:
    content: str
    served_model: str | None
    response_format: ResponseFormat
    finish_reason: str | None


class ChatClient:
    """Sends chat requests to one endpoint. Not thread-safe (it remembers the working format).

    ``sleep`` is how the client waits between retries (tests pass a recorder).
    """

    def __init__(self, config: EndpointConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        self._format: ResponseFormat = _FIRST_FORMAT.get(config.kind, "json_schema")

    @property
    def response_format(self) -> ResponseFormat:
        return self._format

    def complete(
        self, messages: Sequence[Message], schema: OutputSchema | None = None
    ) -> ChatResult:
        """The assistant's answer to ``messages``, asked to follow ``schema`` when given.

        Raises an LLMError subclass when no answer can be had.
        """
        deadline = Deadline(self.config.timeout)
        if schema is None:
            return self._complete(messages, None, "none", deadline)
        form = self._format
        while True:
            try:
                result = self._complete(messages, schema, form, deadline)
            except EndpointHTTPError as error:
                weaker = _weaker(form)
                if not _format_refused(error) or weaker is None:
                    raise
                form = weaker
                continue
            # Remembered only once it worked: a 400 for another reason (a prompt too long)
            # must not leave the client asking every later question without a schema.
            self._format = form
            return result

    def _complete(
        self,
        messages: Sequence[Message],
        schema: OutputSchema | None,
        response_format: ResponseFormat,
        deadline: Deadline,
    ) -> ChatResult:
        body = self._request_body(messages, schema, response_format)
        answer = self._post(body, deadline)
        return _chat_result(answer, response_format, self.config.display_url)

    def _request_body(
        self,
        messages: Sequence[Message],
        schema: OutputSchema | None,
        response_format: ResponseFormat,
    ) -> dict[str, Any]:
        config = self.config
        body: dict[str, Any] = {
            "model": config.model,
            "messages": [message.as_json() for message in messages],
            "temperature": config.temperature,
            "seed": config.seed,
            "max_tokens": config.max_tokens,
            "stream": False,
        }
        if schema is not None and response_format != "none":
            body["response_format"] = _format_field(schema, response_format)
        return body

    def _post(self, body: dict[str, Any], deadline: Deadline) -> Any:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "mdrisk-llm",
        }
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        last_error: LLMError | None = None
        for attempt in range(self.config.retries + 1):
            if attempt:
                assert last_error is not None
                wait = _backoff(attempt, last_error)
                if wait >= deadline.remaining():
                    raise _out_of_time(last_error, wait, deadline, attempt)
                self._sleep(wait)
            if deadline.passed():
                raise self._timed_out(deadline)
            request = urllib.request.Request(
                self.config.chat_url, data=data, headers=headers, method="POST"
            )
            try:
                return self._exchange(request, deadline)
            except EndpointUnreachable as error:
                last_error = error
            except EndpointHTTPError as error:
                if error.status not in _RETRY_STATUSES:
                    raise
                if "response_format" in body and _format_refused(error):
                    raise
                last_error = error
        assert last_error is not None
        raise _gave_up(last_error, self.config.retries + 1)

    def _timed_out(self, deadline: Deadline) -> EndpointTimeout:
        return EndpointTimeout(
            f"the LLM endpoint {self.config.display_url} did not answer within "
            f"{deadline.seconds:g} s (the whole answer, every try included)"
        )

    def _exchange(self, request: urllib.request.Request, deadline: Deadline) -> Any:
        url = self.config.display_url
        try:
            with opened_within(request, deadline) as response:
                raw = read_within(response, deadline, MAX_RESPONSE_BYTES)
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            excerpt = _excerpt(_read_quietly(error))
            retry_after = error.headers.get("Retry-After") if error.headers else None
            raise EndpointHTTPError(
                f"the LLM endpoint {url} answered HTTP {error.code} {error.reason}"
                + (f": {excerpt}" if excerpt else ""),
                error.code,
                excerpt,
                _seconds(retry_after),
            ) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError) or deadline.passed():
                raise self._timed_out(deadline) from None
            raise EndpointUnreachable(
                f"cannot reach the LLM endpoint {url}: {error.reason} "
                "(is the server running and the URL right?)"
            ) from None
        except TimeoutError:
            raise self._timed_out(deadline) from None
        except (http.client.HTTPException, OSError) as error:
            if deadline.passed():  # the watchdog shut the connection
                raise self._timed_out(deadline) from None
            raise EndpointUnreachable(
                f"the connection to the LLM endpoint {url} broke: {type(error).__name__}: {error}"
            ) from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise EndpointBadResponse(
                f"the LLM endpoint {url} sent more than {MAX_RESPONSE_BYTES} bytes"
            )
        try:
            return loads_bounded(raw.decode("utf-8"))
        except TooDeep as deep:
            raise EndpointBadResponse(f"the LLM endpoint {url} answered {deep}") from None
        except (UnicodeDecodeError, ValueError):
            raise EndpointBadResponse(
                f"the LLM endpoint {url} answered with something that is not JSON "
                f"(Content-Type '{content_type}'): {_excerpt(raw)} — is this an "
                "OpenAI-compatible /v1 endpoint?"
            ) from None


def _format_field(schema: OutputSchema, response_format: ResponseFormat) -> dict[str, Any]:
    if response_format == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.name, "schema": schema.schema, "strict": True},
        }
    if response_format == "json_object_schema":
        return {"type": "json_object", "schema": schema.schema}
    return {"type": "json_object"}


def _format_refused(error: EndpointHTTPError) -> bool:
    """Whether the endpoint may have refused the way the schema was passed: a 400 or 422, or
    a 500 naming response_format (llama-cpp-python's answer to a form it does not know)."""
    if error.status in _FORMAT_REJECTED_STATUSES:
        return True
    return error.status == 500 and "response_format" in error.body_excerpt


def _weaker(response_format: ResponseFormat) -> ResponseFormat | None:
    index = FORMAT_FALLBACK.index(response_format)
    return FORMAT_FALLBACK[index + 1] if index + 1 < len(FORMAT_FALLBACK) else None


def _chat_result(answer: Any, response_format: ResponseFormat, url: str) -> ChatResult:
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise EndpointBadResponse(
            f"the LLM endpoint {url} answered JSON without "
            "choices[0].message.content (not a chat completion)"
        ) from None
    if not isinstance(content, str):
        raise EndpointBadResponse(f"the LLM endpoint {url} answered without text content")
    served = answer.get("model") if isinstance(answer.get("model"), str) else None
    finish = choice.get("finish_reason") if isinstance(choice, dict) else None
    return ChatResult(
        content=content,
        served_model=served,
        response_format=response_format,
        finish_reason=finish if isinstance(finish, str) else None,
    )


def _backoff(attempt: int, error: LLMError | None) -> float:
    if isinstance(error, EndpointHTTPError) and error.retry_after is not None:
        return min(MAX_RETRY_AFTER, error.retry_after)
    return min(_MAX_BACKOFF, 0.5 * 2 ** (attempt - 1))


def _out_of_time(error: LLMError, wait: float, deadline: Deadline, tries: int) -> LLMError:
    """The last error, saying the wait before the next try would pass the time for an answer."""
    asked = (
        f"the endpoint asks to wait {error.retry_after:g} s"
        if isinstance(error, EndpointHTTPError) and error.retry_after is not None
        else f"the next try is {wait:g} s away"
    )
    message = (
        f"{error} (gave up after {tries} tries: {asked}, past the {deadline.seconds:g} s "
        "allowed for one answer; raise --timeout to wait longer)"
    )
    if isinstance(error, EndpointHTTPError):
        return EndpointHTTPError(message, error.status, error.body_excerpt)
    return type(error)(message)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _gave_up(error: LLMError, tries: int) -> LLMError:
    message = f"{error} (gave up after {tries} tries)"
    if isinstance(error, EndpointHTTPError):
        return EndpointHTTPError(message, error.status, error.body_excerpt)
    return type(error)(message)


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(4096)
    except (OSError, http.client.HTTPException):
        return b""


def _excerpt(raw: bytes, limit: int = 300) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "…"
