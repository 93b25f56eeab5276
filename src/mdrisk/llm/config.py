"""Where the LLM is and how to talk to it: flags first, then ``MDRISK_LLM_*`` variables.

| variable | meaning | default |
|---|---|---|
| MDRISK_LLM_BASE_URL | endpoint, e.g. ``http://127.0.0.1:8080/v1`` | none: the LLM layer is off |
| MDRISK_LLM_MODEL | model name the endpoint serves | none |
| MDRISK_LLM_API_KEY | bearer token (hosted services) | none |
| MDRISK_LLM_KIND | generic, openai, ollama, vllm or llamacpp | generic |
| MDRISK_LLM_TIMEOUT | seconds to wait for one answer | 120 |
| MDRISK_LLM_RETRIES | extra tries after a connection failure, 429 or 5xx | 2 |
| MDRISK_LLM_TEMPERATURE | sampling temperature | 0 |
| MDRISK_LLM_SEED | sampling seed | 0 |
| MDRISK_LLM_MAX_TOKENS | longest answer, in tokens | 512 |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from mdrisk.llm.errors import EndpointNotConfigured, LLMConfigError

EndpointKind = Literal["generic", "openai", "ollama", "vllm", "llamacpp"]
ENDPOINT_KINDS: tuple[str, ...] = get_args(EndpointKind)

ENV_PREFIX = "MDRISK_LLM_"


@dataclass(frozen=True)
class EndpointConfig:
    """One OpenAI-compatible chat-completions endpoint and the sampling settings to use."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    kind: EndpointKind = "generic"
    timeout: float = 120.0
    retries: int = 2
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 512

    def __post_init__(self) -> None:
        _check_url(self.base_url)
        if not self.model.strip():
            raise LLMConfigError("the model name is empty (set MDRISK_LLM_MODEL or --model)")
        if self.kind not in ENDPOINT_KINDS:
            raise LLMConfigError(
                f"unknown endpoint kind '{self.kind}'; choose from {', '.join(ENDPOINT_KINDS)}"
            )
        if not 0 < self.timeout <= 3600:
            raise LLMConfigError("the timeout must be between 0 and 3600 seconds")
        if not 0 <= self.retries <= 10:
            raise LLMConfigError("retries must be between 0 and 10")
        if not 0 <= self.temperature <= 2:
            raise LLMConfigError("the temperature must be between 0 and 2")
        if not 16 <= self.max_tokens <= 32768:
            raise LLMConfigError("max tokens must be between 16 and 32768")

    @property
    def chat_url(self) -> str:
        """``…/v1/chat/completions``, whether the base URL names ``/v1`` or not."""
        base = self.base_url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if base.endswith("/v1"):
            return base + "/chat/completions"
        return base + "/v1/chat/completions"

    @property
    def display_url(self) -> str:
        """The chat URL without query or fragment: safe to print and to record."""
        parts = urlsplit(self.chat_url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMConfigError(
            f"the endpoint URL '{url}' is not an http(s) URL with a host "
            "(example: http://127.0.0.1:8080/v1)"
        )
    if parts.username or parts.password:
        raise LLMConfigError(
            "the endpoint URL holds credentials; put the key in MDRISK_LLM_API_KEY instead"
        )


_PARSERS: dict[str, Callable[[str], Any]] = {
    "timeout": float,
    "retries": int,
    "temperature": float,
    "seed": int,
    "max_tokens": int,
}


def endpoint_from(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> EndpointConfig:
    """The endpoint from flags (``overrides``; None values are ignored) over the environment.

    Raises LLMConfigError when no endpoint is configured or a value is malformed.
    """
    env = os.environ if env is None else env
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    values: dict[str, Any] = {}
    for name in ("base_url", "model", "api_key", "kind", *_PARSERS):
        if name in given:
            values[name] = given[name]
            continue
        raw = env.get(ENV_PREFIX + name.upper(), "").strip()
        if not raw:
            continue
        parse = _PARSERS.get(name, str)
        try:
            values[name] = parse(raw)
        except ValueError:
            raise LLMConfigError(
                f"{ENV_PREFIX}{name.upper()}='{raw}' is not a valid {parse.__name__}"
            ) from None
    missing = [name for name in ("base_url", "model") if not values.get(name)]
    if missing:
        raise EndpointNotConfigured(
            "no LLM endpoint configured: set "
            + " and ".join(
                f"{ENV_PREFIX}{name.upper()} (or --{name.replace('_', '-')})" for name in missing
            )
        )
    return EndpointConfig(**values)
