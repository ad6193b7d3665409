"""Decryption, signatures and the challenge, checked against Feishu's published examples
and against lark-oapi's own implementation, not only against our encoder."""

import hashlib
import json
import time

import pytest
from cryptography.fernet import Fernet
from lark_oapi.core.model import RawRequest
from lark_oapi.core.utils import AESCipher
from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

from feishu.checks import secrets_key_is_set
from feishu.verification import CallbackRejected, decrypt, open_callback, signature
from feishustub.protocol import encrypt, signed_request

# The example of Feishu's "接收事件 / 解密" documentation: encrypt key "test key".
DOC_KEY = "test key"
DOC_CIPHERTEXT = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="
DOC_PLAINTEXT = "hello world"
# The url_verification request of the documentation ("请求网址配置").
DOC_CHALLENGE = {"challenge": "ajls384kdjx98XX", "token": "xxxxxx", "type": "url_verification"}


def open_(body: bytes, headers: dict, *, key: str = "k", token: str = "t", now=None, window=300):
    return open_callback(
        body=body,
        headers=headers,
        encrypt_key=key,
        verification_token=token,
        window_seconds=window,
        now=now,
    )


class TestDocumentedExamples:
    def test_decrypts_the_documented_ciphertext(self):
        assert decrypt(DOC_CIPHERTEXT, DOC_KEY) == DOC_PLAINTEXT

    def test_a_wrong_key_or_garbage_is_refused(self):
        with pytest.raises(ValueError):
            decrypt(DOC_CIPHERTEXT, "other key")
        with pytest.raises(ValueError):
            decrypt("AAAA", DOC_KEY)
        with pytest.raises(ValueError):
            decrypt("not base64 !!", DOC_KEY)

    def test_signature_is_the_documented_recipe(self):
        # sha256( (timestamp + nonce + encrypt_key).encode("utf-8") + raw body ), hex.
        body = b'{"encrypt":"abc"}'
        expected = hashlib.sha256(b"1700000000" + b"nonce-1" + b"test key" + body).hexdigest()
        assert signature("1700000000", "nonce-1", "test key", body) == expected

    def test_the_documented_challenge_is_answered(self):
        body = json.dumps(DOC_CHALLENGE).encode()
        callback = open_(body, {}, key="", token="xxxxxx")
        assert callback.challenge == "ajls384kdjx98XX"

    def test_an_encrypted_challenge_is_answered(self):
        body = json.dumps({"encrypt": encrypt(json.dumps(DOC_CHALLENGE), DOC_KEY)}).encode()
        assert open_(body, {}, key=DOC_KEY, token="xxxxxx").challenge == "ajls384kdjx98XX"

    def test_a_challenge_with_a_wrong_token_is_refused(self):
        with pytest.raises(CallbackRejected) as refused:
            open_(json.dumps(DOC_CHALLENGE).encode(), {}, key="", token="other")
        assert refused.value.status == 401


class TestAgreesWithTheSdk:
    def test_the_stub_encrypts_what_the_sdk_decrypts(self):
        ciphertext = encrypt('{"a": 1}', "sdk key")
        assert AESCipher("sdk key").decrypt_str(ciphertext) == '{"a": 1}'
        assert decrypt(ciphertext, "sdk key") == '{"a": 1}'

    def test_a_request_we_accept_the_sdk_accepts(self):
        payload = {"schema": "2.0", "header": {"event_type": "x", "token": "t"}, "event": {}}
        body, headers = signed_request(payload, encrypt_key="k")
        assert open_(body, headers).payload == payload
        handler = EventDispatcherHandler.builder("k", "t").build()
        request = RawRequest()
        request.body, request.headers, request.uri = body, headers, "/"
        handler._verify_sign(request, "k")  # raises AccessDeniedException on a mismatch


class TestRefusals:
    def payload(self) -> dict:
        return {"schema": "2.0", "header": {"event_type": "x", "token": "t"}, "event": {}}

    def test_a_forged_signature_is_refused(self):
        body, headers = signed_request(self.payload(), encrypt_key="k")
        headers["X-Lark-Signature"] = "0" * 64
        with pytest.raises(CallbackRejected) as refused:
            open_(body, headers)
        assert refused.value.status == 401

    def test_a_body_changed_in_transit_is_refused(self):
        _body, headers = signed_request(self.payload(), encrypt_key="k")
        other, _ = signed_request(self.payload(), encrypt_key="k")
        with pytest.raises(CallbackRejected):
            open_(other, headers)

    def test_an_old_request_is_a_replay(self):
        sent = int(time.time()) - 3600
        body, headers = signed_request(self.payload(), encrypt_key="k", timestamp=sent)
        with pytest.raises(CallbackRejected, match="replay window"):
            open_(body, headers)
        assert open_(body, headers, window=7200).payload == self.payload()

    def test_a_wrong_token_is_refused(self):
        payload = self.payload()
        payload["header"]["token"] = "nope"
        body, headers = signed_request(payload, encrypt_key="k")
        with pytest.raises(CallbackRejected, match="token"):
            open_(body, headers)

    @pytest.mark.parametrize(
        "body", [b"", b"not json", b"[1, 2]", b'{"encrypt": "bm90IGNpcGhlcnRleHQ="}']
    )
    def test_malformed_bodies_are_400(self, body):
        with pytest.raises(CallbackRejected) as refused:
            open_(body, {})
        assert refused.value.status == 400

    def test_plain_body_when_a_key_is_configured_is_refused(self):
        body = json.dumps(self.payload()).encode()
        with pytest.raises(CallbackRejected, match="not encrypted"):
            open_(body, {})

    def test_an_app_without_token_and_key_accepts_nothing(self):
        with pytest.raises(CallbackRejected) as refused:
            open_(json.dumps(self.payload()).encode(), {}, key="", token="")
        assert refused.value.status == 403


class TestSecretsKeyCheck:
    def test_unset_is_information_and_a_bad_key_is_an_error(self, settings):
        settings.FEISHU_SECRETS_KEY = ""
        assert [c.id for c in secrets_key_is_set(None)] == ["feishu.I001"]
        settings.FEISHU_SECRETS_KEY = "not-a-key"
        assert [c.id for c in secrets_key_is_set(None)] == ["feishu.E001"]
        settings.FEISHU_SECRETS_KEY = Fernet.generate_key().decode()
        assert secrets_key_is_set(None) == []
