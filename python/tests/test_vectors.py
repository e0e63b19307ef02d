"""The shared test vectors in contract/vectors, which the TypeScript core and the Go SDK run too."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Duration

from open_vcluster import (
    Annotations,
    AsyncInformer,
    AsyncWatch,
    ErrorReasons,
    Page,
    Paginator,
    RetryBudgetOptions,
    RetryPolicy,
    Watch,
    api,
)
from open_vcluster._cache import CacheEvent
from open_vcluster._retry import Backoff, CallPlan, RetryBudget, full_jitter_delay_ms
from open_vcluster._shared import method, with_request_id
from open_vcluster._watch import WatchSettings
from open_vcluster.api import (
    CreateVClusterRequest,
    ErrorDetail,
    VCluster,
    WatchEventType,
    WatchVClusterRequest,
    WatchVClusterResponse,
)
from open_vcluster.errors import ApiError, RepeatedPageTokenError, from_connect_error
from open_vcluster.labels import SelectorError, parse_selector

VECTORS = Path(__file__).resolve().parents[2] / "contract" / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / f"{name}.json").read_text())


def cases(name: str, key: str) -> list[Any]:
    return list(load(name)[key])


def case_id(case: Any) -> str:
    return str(case.get("name") or case.get("selector") or json.dumps(case)[:60])


# --- label selectors --------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("label-selectors", "parse"), ids=case_id)
def test_selector_parse(case: dict[str, Any]) -> None:
    if "errorOffset" in case:
        with pytest.raises(SelectorError) as error:
            parse_selector(case["selector"])
        assert error.value.position == case["errorOffset"]
        return
    selector = parse_selector(case["selector"])
    assert str(selector) == case["canonical"]
    assert [{"key": r.key, "operator": r.operator, "values": list(r.values)} for r in selector.requirements] == case[
        "requirements"
    ]


@pytest.mark.parametrize("case", cases("label-selectors", "match"), ids=lambda c: f"{c['selector']} {c['labels']}")
def test_selector_match(case: dict[str, Any]) -> None:
    assert parse_selector(case["selector"]).matches(case["labels"]) is case["matches"]


# --- backoff ----------------------------------------------------------------------------------


def test_watch_defaults() -> None:
    defaults = load("backoff")["watchDefaults"]
    settings = WatchSettings()
    assert round(settings.backoff_initial * 1000) == defaults["backoffInitialMs"]
    assert round(settings.backoff_max * 1000) == defaults["backoffMaxMs"]
    assert round(settings.heartbeat_timeout * 1000) == defaults["heartbeatTimeoutMs"]


@pytest.mark.parametrize("case", cases("backoff", "fullJitter"), ids=case_id)
def test_full_jitter(case: dict[str, Any]) -> None:
    delay = full_jitter_delay_ms(
        case["retry"], case["initialMs"], case["maxMs"], lambda: case["random"], case.get("multiplier", 2)
    )
    assert delay == case["delayMs"]


@pytest.mark.parametrize("case", cases("backoff", "sequences"), ids=case_id)
def test_backoff_sequence(case: dict[str, Any]) -> None:
    backoff = Backoff(case["initialMs"] / 1000, case["maxMs"] / 1000, lambda: case["random"])
    for step in case["steps"]:
        if step["op"] == "reset":
            backoff.reset()
        else:
            assert round(backoff.next() * 1000) == step["delayMs"]


# --- retry ------------------------------------------------------------------------------------


def test_retry_defaults() -> None:
    defaults = load("retry")["defaults"]
    policy = RetryPolicy()
    assert policy.max_attempts == defaults["maxAttempts"]
    assert round(policy.base_delay * 1000) == defaults["baseDelayMs"]
    assert round(policy.throttled_base_delay * 1000) == defaults["throttledBaseDelayMs"]
    assert round(policy.max_delay * 1000) == defaults["maxDelayMs"]
    budget = policy.budget
    assert [budget.capacity, budget.retry_cost, budget.timeout_retry_cost, budget.success_refill] == [
        defaults["budget"]["capacity"],
        defaults["budget"]["retryCost"],
        defaults["budget"]["timeoutRetryCost"],
        defaults["budget"]["successRefill"],
    ]


def failure(spec: dict[str, Any]) -> ApiError:
    """The error an attempt fails with, made the way the transport makes it."""
    code = Code[spec["code"].upper()]
    if spec["kind"] == "connection_refused":
        connect = ConnectError(code, "Request failed: tcp connect error: Connection refused (os error 111)")
        connect.__cause__ = ConnectionRefusedError(111, "Connection refused")
        return from_connect_error(connect)
    if spec["kind"] == "refused_stream":
        return from_connect_error(ConnectError(code, "stream error received: REFUSED_STREAM"))
    details = []
    if "reason" in spec or "retryDelayMs" in spec:
        delay = spec.get("retryDelayMs")
        retry_delay = None if delay is None else Duration(seconds=delay // 1000, nanos=(delay % 1000) * 1_000_000)
        details.append(ErrorDetail(reason=spec.get("reason", ""), retry_delay=retry_delay))
    return from_connect_error(ConnectError(code, "failed", details))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def policy_of(options: dict[str, Any]) -> RetryPolicy:
    budget = options.get("budget", {})
    return RetryPolicy(
        max_attempts=options.get("maxAttempts", 3),
        base_delay=options.get("baseDelayMs", 100) / 1000,
        throttled_base_delay=options.get("throttledBaseDelayMs", 1000) / 1000,
        max_delay=options.get("maxDelayMs", 20000) / 1000,
        budget=RetryBudgetOptions(
            capacity=budget.get("capacity", 500),
            retry_cost=budget.get("retryCost", 5),
            timeout_retry_cost=budget.get("timeoutRetryCost", 10),
            success_refill=budget.get("successRefill", 1),
        ),
    )


def run_call(
    procedure: str,
    failures: list[ApiError],
    policy: RetryPolicy,
    random: float,
    timeout_ms: int | None = None,
    request_id: str | None = None,
) -> tuple[str, ApiError | None, list[int], list[str]]:
    """Drives one call through the retry plan; returns (outcome, error, delays in ms, sent request ids)."""
    desc = method(procedure.split("/")[1])
    clock = FakeClock()
    plan = CallPlan(
        policy=policy,
        budget=RetryBudget(policy.budget),
        method=desc,
        timeout=None if timeout_ms is None else timeout_ms / 1000,
        clock=clock,
        random=lambda: random,
    )
    message_class = getattr(api, desc.input.type_name.rsplit(".", 1)[1])
    request = message_class(request_id=request_id) if request_id else message_class()
    request = with_request_id(desc, request)
    sent: list[str] = []
    delays: list[int] = []
    pending = list(failures)
    while True:
        plan.attempt_timeout_ms()
        sent.append(getattr(request, "request_id", ""))
        if not pending:
            plan.succeeded()
            return "ok", None, delays, sent
        try:
            delay = plan.failed(pending.pop(0))
        except ApiError as final:
            return "error", final, delays, sent
        delays.append(round(delay * 1000))
        clock.now += delay


@pytest.mark.parametrize("case", cases("retry", "decisions"), ids=case_id)
def test_retry_decision(case: dict[str, Any]) -> None:
    caller = case.get("callerRequestId") if case.get("requestId") == "caller" else None
    outcome, _, _, sent = run_call(case["procedure"], [failure(case["failure"])], RetryPolicy(), 0.0, request_id=caller)
    assert (outcome == "ok") is case["retry"]
    if "requestId" not in case:
        assert set(sent) == {""}
        return
    assert len(set(sent)) == 1
    if case["requestId"] == "caller":
        assert sent[0] == case["callerRequestId"]
    else:
        assert uuid.UUID(sent[0]).version == 4


@pytest.mark.parametrize("case", cases("retry", "sequences"), ids=case_id)
def test_retry_sequence(case: dict[str, Any]) -> None:
    outcome, error, delays, _ = run_call(
        case["procedure"],
        [failure(f) for f in case["failures"]],
        policy_of(case.get("options", {})),
        case["random"],
        case.get("timeoutMs"),
    )
    expect = case["expect"]
    assert outcome == expect["outcome"]
    assert delays == expect["delaysMs"]
    attempts = len(delays) + 1
    assert attempts == expect["attempts"]
    if outcome == "error":
        assert error is not None
        assert error.code == Code[expect["code"].upper()]
        assert error.attempts == attempts


@pytest.mark.parametrize("case", cases("retry", "budget"), ids=case_id)
def test_retry_budget(case: dict[str, Any]) -> None:
    o = case["options"]
    budget = RetryBudget(
        RetryBudgetOptions(
            capacity=o.get("capacity", 500),
            retry_cost=o.get("retryCost", 5),
            timeout_retry_cost=o.get("timeoutRetryCost", 10),
            success_refill=o.get("successRefill", 1),
        )
    )
    for step in case["steps"]:
        if step["op"] == "acquire":
            assert budget.acquire(step["afterTimeout"]) == step["taken"]
        else:
            budget.succeeded(step["lastRetryCost"])
        assert budget.available == step["available"]


def test_request_id_is_filled_once_and_never_overwritten() -> None:
    desc = method("CreateVCluster")
    filled = with_request_id(desc, CreateVClusterRequest(name="a"))
    assert uuid.UUID(filled.request_id).version == 4
    assert with_request_id(desc, filled) is filled
    assert with_request_id(desc, CreateVClusterRequest(name="a", request_id="mine")).request_id == "mine"


# --- paging -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("paging", "scenarios"), ids=case_id)
def test_paging(case: dict[str, Any]) -> None:
    requested: list[str] = []

    def fetch(token: str) -> Page[str]:
        requested.append(token)
        page = case["pages"][token]
        return Page(list(page["items"]), page["nextPageToken"], len(page["items"]))

    seen: list[str] = []
    stop = case.get("stopAfterItems", math.inf)
    expect = case["expect"]
    try:
        for item in Paginator(fetch, case.get("startToken", "")):
            seen.append(item)
            if len(seen) >= stop:
                break
    except RepeatedPageTokenError as error:
        assert expect["error"] == {"kind": "repeated_page_token", "pageToken": error.page_token}
    else:
        assert "error" not in expect
    assert seen == expect["items"]
    assert requested == expect["requestedTokens"]


# --- watch recovery ---------------------------------------------------------------------------


def vcluster_of(text: str) -> VCluster:
    vcluster_id, rest = text.split(" ")
    path, version = rest.split("@")
    namespace, name = path.split("/")
    return VCluster(id=vcluster_id, namespace=namespace, name=name, annotations={Annotations.RESOURCE_VERSION: version})


def describe(kind: WatchEventType, vcluster: VCluster) -> str:
    version = vcluster.annotations.get(Annotations.RESOURCE_VERSION, "")
    return f"{kind.name} {vcluster.id} {vcluster.namespace}/{vcluster.name}@{version}"


def message_of(spec: dict[str, Any]) -> WatchVClusterResponse:
    if spec["type"] == "HEARTBEAT":
        heartbeat = VCluster(annotations={Annotations.RESOURCE_VERSION: spec["resourceVersion"]})
        return WatchVClusterResponse(type=WatchEventType.UNSPECIFIED, vcluster=heartbeat)
    return WatchVClusterResponse(type=WatchEventType[spec["type"]], vcluster=vcluster_of(spec["object"]))


def error_of(end: str) -> ApiError:
    if end == "disconnect":
        return from_connect_error(ConnectError(Code.UNAVAILABLE, "connection lost"))
    if end == "expired":
        detail = ErrorDetail(reason=ErrorReasons.RESOURCE_VERSION_EXPIRED)
        return from_connect_error(ConnectError(Code.OUT_OF_RANGE, "too old", [detail]))
    return from_connect_error(ConnectError(Code[end.upper()], end))


def expected_error_matches(error: BaseException, expected: str) -> bool:
    wanted = error_of(expected)
    return isinstance(error, type(wanted)) and isinstance(error, ApiError) and error.code == wanted.code


class Script:
    """The fake server: answers each call with the next step, failing on any call it did not expect."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.steps = list(steps)
        self.served: asyncio.Event | None = None

    def next(self, call: str, **expected: str) -> dict[str, Any]:
        assert self.steps, f"unexpected {call} call {expected} after the last step"
        step = self.steps.pop(0)
        if not self.steps and self.served is not None:
            self.served.set()
        assert step["call"] == call, f"expected a {step['call']} call, got {call}"
        for key, value in expected.items():
            assert step.get(key, "") == value, f"{call}: expected {key} {step.get(key)!r}, got {value!r}"
        return step


def watch_settings() -> WatchSettings:
    return WatchSettings(backoff_initial=0, backoff_max=0)


class OpenForever(Exception):
    """The script's stream stays open, yet the consumer asked for more."""


def sync_open(script: Script) -> Callable[[WatchVClusterRequest, int | None], Any]:
    @contextmanager
    def open_stream(
        request: WatchVClusterRequest, _timeout_ms: int | None
    ) -> Iterator[Iterator[WatchVClusterResponse]]:
        step = script.next("watch", resourceVersion=request.resource_version)

        def messages() -> Iterator[WatchVClusterResponse]:
            for spec in step["send"]:
                yield message_of(spec)
            if step["end"] == "open":
                raise OpenForever("the stream is open and has nothing more to send")
            if step["end"] != "close":
                raise error_of(step["end"])

        yield messages()

    return open_stream


@pytest.mark.parametrize("case", cases("watch-recovery", "watch"), ids=case_id)
def test_watch_recovery_sync(case: dict[str, Any]) -> None:
    script = Script(case["steps"])
    request = WatchVClusterRequest(resource_version=case["resourceVersion"])
    watch = Watch(sync_open(script), request, settings=watch_settings(), random=lambda: 0.0)
    expect = case["expect"]
    seen: list[str] = []
    try:
        for event in watch:
            seen.append(describe(event.type, event.vcluster))
            if len(seen) == len(expect["events"]) and "error" not in expect and not script.steps:
                break
    except ApiError as error:
        assert "error" in expect, f"unexpected {error!r}"
        assert expected_error_matches(error, expect["error"])
    else:
        assert "error" not in expect
    assert seen == expect["events"]
    assert not script.steps


def async_open(script: Script) -> Callable[[WatchVClusterRequest, int | None], Any]:
    @asynccontextmanager
    async def open_stream(
        request: WatchVClusterRequest, _timeout_ms: int | None
    ) -> AsyncIterator[AsyncIterator[WatchVClusterResponse]]:
        step = script.next("watch", resourceVersion=request.resource_version)

        async def messages() -> AsyncIterator[WatchVClusterResponse]:
            for spec in step["send"]:
                yield message_of(spec)
            if step["end"] == "open":
                await asyncio.Event().wait()  # open until the client leaves
            if step["end"] != "close":
                raise error_of(step["end"])

        yield messages()

    return open_stream


@pytest.mark.parametrize("case", cases("watch-recovery", "watch"), ids=case_id)
async def test_watch_recovery_async(case: dict[str, Any]) -> None:
    script = Script(case["steps"])
    request = WatchVClusterRequest(resource_version=case["resourceVersion"])
    watch = AsyncWatch(async_open(script), request, settings=watch_settings(), random=lambda: 0.0)
    expect = case["expect"]
    seen: list[str] = []

    async def consume() -> None:
        async for event in watch:
            seen.append(describe(event.type, event.vcluster))
            if len(seen) == len(expect["events"]) and "error" not in expect and not script.steps:
                watch.close()

    try:
        await asyncio.wait_for(consume(), 30)
    except ApiError as error:
        assert "error" in expect, f"unexpected {error!r}"
        assert expected_error_matches(error, expect["error"])
    else:
        assert "error" not in expect
    assert seen == expect["events"]
    assert not script.steps


@pytest.mark.parametrize("case", cases("watch-recovery", "informer"), ids=case_id)
async def test_informer_recovery(case: dict[str, Any]) -> None:
    script = Script(case["steps"])
    script.served = asyncio.Event()
    expect = case["expect"]

    async def list_pages() -> AsyncIterator[Page[VCluster]]:
        token = ""
        while True:
            step = script.next("list", pageToken=token)
            if "error" in step:
                raise error_of(step["error"])
            items = [vcluster_of(o) for o in step["items"]]
            yield Page(items, step["nextPageToken"], len(items), step.get("resourceVersion"))
            token = step["nextPageToken"]
            if not token:
                return

    open_stream = async_open(script)

    def make_watch(version: str, on_status: Any, on_bookmark: Any) -> AsyncWatch:
        request = WatchVClusterRequest(resource_version=version)
        return AsyncWatch(
            open_stream,
            request,
            settings=watch_settings(),
            random=lambda: 0.0,
            on_status=on_status,
            on_bookmark=on_bookmark,
        )

    informer = AsyncInformer(list_pages, make_watch, random=lambda: 0.0, list_backoff=(0, 0))
    seen: list[str] = []
    arrived = asyncio.Event()

    def record(event: CacheEvent) -> None:
        seen.append(describe(event.type, event.vcluster))
        if len(seen) >= len(expect["events"]):
            arrived.set()

    informer.add_handler(record)
    informer.start()
    try:
        if "error" in expect:
            await asyncio.wait_for(informer.wait_closed(), 30)
            assert informer.error is not None
            assert expected_error_matches(informer.error, expect["error"])
        else:
            await asyncio.wait_for(asyncio.gather(arrived.wait(), script.served.wait()), 30)
            assert informer.error is None
        assert informer.has_synced
        assert seen == expect["events"]
        cached = sorted(describe(WatchEventType.ADDED, v).removeprefix("ADDED ") for v in informer.list())
        assert cached == sorted(expect["cache"])
        assert not script.steps
    finally:
        await informer.stop()
