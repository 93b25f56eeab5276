"""The OpenAI-compatible client against a scripted endpoint on 127.0.0.1: what it sends, what
it retries, and how each failure reads."""

from __future__ import annotations

import pytest
from fake_openai import FakeEndpoint, Reply, chat_reply, json_reply

from mdrisk.llm.client import ChatClient, Message, OutputSchema
from mdrisk.llm.config import EndpointConfig, endpoint_from
from mdrisk.llm.errors import (
    EndpointBadResponse,
    EndpointHTTPError,
    EndpointNotConfigured,
    EndpointTimeout,
    EndpointUnreachable,
    LLMConfigError,
)

MESSAGES = [Message("system", "be brief"), Message("user", "hello")]
SCHEMA = OutputSchema(
    "answer", {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(endpoint: FakeEndpoint, **settings) -> tuple[ChatClient, Sleeps]:
    sleeps = Sleeps()
    config = EndpointConfig(base_url=endpoint.base_url, model="tiny", **settings)
    return ChatClient(config, sleep=sleeps), sleeps


def test_sends_one_chat_completion_with_the_schema_and_sampling_settings():
    with FakeEndpoint([chat_reply('{"a": "b"}', model="tiny-q4")]) as endpoint:
        client, _ = client_for(endpoint, api_key="sk-test", temperature=0.0, seed=7)
        result = client.complete(MESSAGES, SCHEMA)
    assert result.content == '{"a": "b"}'
    assert result.served_model == "tiny-q4"
    assert result.response_format == "json_schema"
    [seen] = endpoint.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"] == "Bearer sk-test"
    assert seen.body["model"] == "tiny"
    assert seen.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]
    assert (seen.body["temperature"], seen.body["seed"], seen.body["stream"]) == (0.0, 7, False)
    assert seen.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA.schema, "strict": True},
    }


def test_a_llama_cpp_endpoint_gets_the_schema_inside_a_json_object_request():
    with FakeEndpoint([chat_reply("{}")]) as endpoint:
        client, _ = client_for(endpoint, kind="llamacpp")
        client.complete(MESSAGES, SCHEMA)
    assert endpoint.seen[0].body["response_format"] == {
        "type": "json_object",
        "schema": SCHEMA.schema,
    }


def test_an_endpoint_refusing_the_schema_form_gets_the_next_weaker_one_and_keeps_it():
    refused = json_reply(400, {"error": {"message": "response_format json_schema unsupported"}})
    with FakeEndpoint([refused, chat_reply("{}"), chat_reply("{}")]) as endpoint:
        client, sleeps = client_for(endpoint)
        first = client.complete(MESSAGES, SCHEMA)
        client.complete(MESSAGES, SCHEMA)
    formats = [seen.body["response_format"]["type"] for seen in endpoint.seen]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert "schema" in endpoint.seen[1].body["response_format"]
    assert first.response_format == "json_object_schema"
    assert sleeps == []


def test_llama_cpp_pythons_500_naming_response_format_is_a_refusal_not_a_crash():
    refused = json_reply(
        500,
        {
            "error": {
                "message": "('body', 'response_format', 'type') "
                "Input should be 'text' or 'json_object'"
            }
        },
    )
    with FakeEndpoint([refused, chat_reply("{}")]) as endpoint:
        client, sleeps = client_for(endpoint, retries=2)
        result = client.complete(MESSAGES, SCHEMA)
    assert result.response_format == "json_object_schema"
    assert len(endpoint.seen) == 2 and sleeps == []


def test_a_400_for_another_reason_does_not_leave_the_client_without_a_schema():
    too_long = json_reply(400, {"error": "the prompt is longer than the context"})
    with FakeEndpoint([too_long] * 4 + [chat_reply("{}")]) as endpoint:
        client, _ = client_for(endpoint)
        with pytest.raises(EndpointHTTPError, match="longer than the context"):
            client.complete(MESSAGES, SCHEMA)
        client.complete(MESSAGES, SCHEMA)
    assert len(endpoint.seen) == 5
    assert "response_format" not in endpoint.seen[3].body
    assert endpoint.seen[4].body["response_format"]["type"] == "json_schema"


def test_a_400_without_a_schema_is_not_retried():
    with FakeEndpoint([json_reply(400, {"error": "context too long"})]) as endpoint:
        client, _ = client_for(endpoint)
        with pytest.raises(EndpointHTTPError) as raised:
            client.complete(MESSAGES)
    assert raised.value.status == 400
    assert "context too long" in str(raised.value)
    assert len(endpoint.seen) == 1


def test_a_busy_endpoint_is_retried_with_backoff():
    busy = json_reply(503, {"error": "loading model"})
    with FakeEndpoint([busy, busy, chat_reply("ok")]) as endpoint:
        client, sleeps = client_for(endpoint, retries=2)
        assert client.complete(MESSAGES).content == "ok"
    assert len(endpoint.seen) == 3
    assert sleeps == [0.5, 1.0]


def test_rate_limiting_waits_as_long_as_the_endpoint_asks():
    limited = json_reply(429, {"error": "slow down"}, {"Retry-After": "2"})
    with FakeEndpoint([limited, chat_reply("ok")]) as endpoint:
        client, sleeps = client_for(endpoint)
        client.complete(MESSAGES)
    assert sleeps == [2.0]


def test_retries_are_bounded_and_the_last_status_is_reported():
    with FakeEndpoint([json_reply(502, {"error": "bad gateway"})]) as endpoint:
        client, sleeps = client_for(endpoint, retries=1)
        with pytest.raises(EndpointHTTPError) as raised:
            client.complete(MESSAGES)
    assert len(endpoint.seen) == 2 and len(sleeps) == 1
    assert raised.value.status == 502
    assert "gave up after 2 tries" in str(raised.value)


def test_a_wrong_key_fails_at_once_and_the_key_is_not_in_the_message():
    with FakeEndpoint([json_reply(401, {"error": "invalid api key"})]) as endpoint:
        client, sleeps = client_for(endpoint, api_key="sk-secret-123")
        with pytest.raises(EndpointHTTPError) as raised:
            client.complete(MESSAGES)
    assert raised.value.status == 401 and sleeps == [] and len(endpoint.seen) == 1
    assert "sk-secret-123" not in str(raised.value)
    assert "sk-secret-123" not in repr(client.config)


@pytest.mark.parametrize(
    "reply, words",
    [
        (Reply(200, b"<html>Welcome to nginx</html>", {"Content-Type": "text/html"}), "not JSON"),
        (json_reply(200, {"object": "list", "data": []}), "choices[0].message.content"),
        (json_reply(200, {"choices": [{"message": {"content": None}}]}), "without text"),
        (json_reply(200, ["not", "an", "object"]), "choices[0].message.content"),
    ],
)
def test_an_answer_that_is_not_a_chat_completion_is_a_clear_error(reply, words):
    with FakeEndpoint([reply]) as endpoint:
        client, sleeps = client_for(endpoint)
        with pytest.raises(
            EndpointBadResponse, match=words.replace("[", r"\[").replace("]", r"\]")
        ):
            client.complete(MESSAGES)
    assert sleeps == []


def test_a_slow_endpoint_times_out_without_queueing_the_question_again():
    with FakeEndpoint([Reply(200, b"{}", delay=1.0)]) as endpoint:
        client, sleeps = client_for(endpoint, timeout=0.2, retries=2)
        with pytest.raises(EndpointTimeout, match="did not answer within 0.2 s"):
            client.complete(MESSAGES)
    assert len(endpoint.seen) == 1 and sleeps == []


def test_nothing_listening_is_reported_as_unreachable(refused_port):
    sleeps = Sleeps()
    client = ChatClient(
        EndpointConfig(f"http://127.0.0.1:{refused_port}", "tiny", retries=2), sleep=sleeps
    )
    with pytest.raises(EndpointUnreachable, match="cannot reach the LLM endpoint"):
        client.complete(MESSAGES)
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "base, url",
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("https://api.example.org/openai/v1", "https://api.example.org/openai/v1/chat/completions"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
    ],
)
def test_the_chat_url_is_found_from_any_usual_base_url(base, url):
    assert EndpointConfig(base, "m").chat_url == url


def test_no_endpoint_configured_says_which_settings_are_missing():
    with pytest.raises(EndpointNotConfigured, match="MDRISK_LLM_BASE_URL.*MDRISK_LLM_MODEL"):
        endpoint_from({}, env={})
    with pytest.raises(EndpointNotConfigured, match="MDRISK_LLM_MODEL"):
        endpoint_from({}, env={"MDRISK_LLM_BASE_URL": "http://127.0.0.1:1"})


def test_flags_win_over_the_environment_and_numbers_are_parsed():
    env = {
        "MDRISK_LLM_BASE_URL": "http://127.0.0.1:1/v1",
        "MDRISK_LLM_MODEL": "env-model",
        "MDRISK_LLM_API_KEY": "k",
        "MDRISK_LLM_TIMEOUT": "7.5",
        "MDRISK_LLM_SEED": "3",
        "MDRISK_LLM_KIND": "ollama",
    }
    config = endpoint_from({"model": "flag-model", "seed": None}, env=env)
    assert (config.model, config.timeout, config.seed, config.kind, config.api_key) == (
        "flag-model",
        7.5,
        3,
        "ollama",
        "k",
    )


@pytest.mark.parametrize(
    "env, words",
    [
        ({"MDRISK_LLM_TIMEOUT": "soon"}, "MDRISK_LLM_TIMEOUT='soon' is not a valid float"),
        ({"MDRISK_LLM_RETRIES": "99"}, "retries"),
        ({"MDRISK_LLM_KIND": "magic"}, "unknown endpoint kind"),
        ({"MDRISK_LLM_BASE_URL": "file:///etc/passwd"}, "not an http"),
        ({"MDRISK_LLM_BASE_URL": "http://user:pw@host/v1"}, "holds credentials"),
    ],
)
def test_malformed_settings_are_refused_with_the_setting_named(env, words):
    base = {"MDRISK_LLM_BASE_URL": "http://127.0.0.1:1", "MDRISK_LLM_MODEL": "m"}
    with pytest.raises(LLMConfigError, match=words):
        endpoint_from({}, env={**base, **env})
