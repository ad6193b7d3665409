"""The stub Feishu driven by the real lark-oapi SDK over HTTP (nothing is mocked)."""

import json
import subprocess
import sys
from pathlib import Path

import lark_oapi as lark
import pytest
from lark_oapi.api.auth.v3 import (
    InternalTenantAccessTokenRequest,
    InternalTenantAccessTokenRequestBody,
)
from lark_oapi.api.bitable.v1 import SearchAppTableRecordRequest, SearchAppTableRecordRequestBody
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
from lark_oapi.ws.pb.pbbp2_pb2 import Frame as SdkFrame

from feishustub import FeishuStub
from feishustub.frames import CONTROL, DATA, Frame

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stub():
    with FeishuStub() as server:
        yield server


@pytest.fixture
def client(stub):
    stub.state.reset()
    stub.state.add_app("cli_t", "secret-t")
    return (
        lark.Client.builder()
        .app_id("cli_t")
        .app_secret("secret-t")
        .domain(stub.url)
        .enable_set_token(True)
        .build()
    )


def token(client, secret="secret-t") -> dict:
    body = InternalTenantAccessTokenRequestBody.builder().app_id("cli_t").app_secret(secret)
    request = InternalTenantAccessTokenRequest.builder().request_body(body.build()).build()
    return json.loads(client.auth.v3.tenant_access_token.internal(request).raw.content)


def option(client) -> lark.RequestOption:
    return (
        lark.RequestOption.builder()
        .tenant_access_token(token(client)["tenant_access_token"])
        .build()
    )


def send(client, opt, chat="oc_1"):
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(chat)
        .msg_type("text")
        .content(json.dumps({"text": "hi"}))
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
    return client.im.v1.message.create(request, opt)


class TestFrames:
    def test_our_frames_are_what_the_sdk_parses_and_back(self):
        ours = Frame(
            seq_id=7,
            log_id=9,
            service=1,
            method=DATA,
            payload=b'{"a": 1}',
            headers={"type": "event", "message_id": "m1", "sum": "1", "seq": "0"},
        )
        parsed = SdkFrame()
        parsed.ParseFromString(ours.encode())
        assert (parsed.SeqID, parsed.service, parsed.method, parsed.payload) == (
            7,
            1,
            1,
            b'{"a": 1}',
        )
        assert {h.key: h.value for h in parsed.headers}["message_id"] == "m1"
        parsed.method = CONTROL
        assert Frame.decode(parsed.SerializeToString()).method == CONTROL
        assert Frame.decode(parsed.SerializeToString()).headers == ours.headers


class TestHttp:
    def test_token_for_the_right_secret_only(self, client):
        good = token(client)
        assert good["code"] == 0 and good["tenant_access_token"].startswith("t-")
        assert token(client, "wrong")["code"] == 10014

    def test_messages_need_a_valid_token(self, client, stub):
        assert send(client, option(client)).success()
        bad = lark.RequestOption.builder().tenant_access_token("t-forged").build()
        assert send(client, bad).code == 99991663
        assert len(stub.state.sent) == 1

    def test_the_chat_limit_answers_like_feishu(self, client, stub):
        opt = option(client)
        answers = [send(client, opt) for _ in range(6)]
        assert [a.success() for a in answers] == [True] * 5 + [False]
        assert answers[-1].code == 99991400 and answers[-1].raw.status_code == 429
        assert answers[-1].raw.headers["x-ogw-ratelimit-reset"] == "1"

    def test_bitable_pages(self, client, stub):
        stub.state.fill_table("app1", "tbl1", 25)
        opt = option(client)
        seen, page_token = [], ""
        while True:
            builder = (
                SearchAppTableRecordRequest.builder()
                .app_token("app1")
                .table_id("tbl1")
                .page_size(10)
            )
            if page_token:
                builder = builder.page_token(page_token)
            body = SearchAppTableRecordRequestBody.builder().automatic_fields(True).build()
            data = client.bitable.v1.app_table_record.search(
                builder.request_body(body).build(), opt
            ).data
            seen += [item.record_id for item in data.items]
            if not data.has_more:
                break
            page_token = data.page_token
        assert len(seen) == len(set(seen)) == 25
        assert stub.state.table("app1", "tbl1").records[seen[0]]["fields"]["TR Number"]


def test_runs_as_a_program():
    process = subprocess.Popen(
        [sys.executable, "-m", "feishustub", "--port", "0", "--app", "cli_x:s"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("feishustub listening on http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)
