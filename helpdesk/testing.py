"""Test helpers: API responses against the OpenAPI schema, Server-Sent Events, free ports."""

import functools
import io
import json
import socket
import zipfile

import jsonschema

from helpdesk.api.schema import TenantAwareSchemaGenerator


@functools.cache
def openapi_schema(urlconf: str | None = None) -> dict:
    schema = TenantAwareSchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, default=str))


def assert_matches_schema(response, method: str, path: str, urlconf: str | None = None) -> None:
    """Validate `response` against the documented schema of `method path`.

    `path` is the template as in the schema, e.g. "/api/v1/workorders/{id}/".
    Every status code the server can send must be documented for the operation.
    """
    schema = openapi_schema(urlconf)
    operation = schema["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} does not document {status}"
    documented = operation["responses"][status]
    if status == "204":
        assert not response.content
        return
    body_schema = documented["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(
        {**body_schema, "components": schema["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    validator.validate(response.json())


def sse_events(body: str) -> list[tuple[str, dict]]:
    """(event name, JSON data) of each event of a Server-Sent Events body."""
    events = []
    for block in body.strip().split("\n\n"):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crafted_xlsx(
    *,
    cell_text: str = "标题",
    dimension: str | None = "A1:A1",
    rows: int = 1,
    extra_cell: str | None = None,
) -> bytes:
    """A minimal XLSX built by hand, to make the files a spreadsheet program never would:
    one shared string of any size (a 300 MB cell compresses to 300 KB), a declared
    `dimension` that need not match the data, `rows` rows of that one string, and an
    optional cell reference far out (`extra_cell`, e.g. "XFD1")."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(1, rows + 1)
    )
    if extra_cell:
        cells += (
            f'<row r="{rows + 1}"><c r="{extra_cell}" t="inlineStr"><is><t>x</t></is></c></row>'
        )
    dimension_xml = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings'
            '.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel_ns}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel_ns}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="'
            f'{rel_ns}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}>{dimension_xml}'
            f"<sheetData>{cells}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="1" uniqueCount="1">'
            f"<si><t>{cell_text}</t></si></sst>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()
