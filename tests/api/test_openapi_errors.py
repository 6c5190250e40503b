"""The error answers the OpenAPI document names per route: the sets of a few routes, and the answers of the real app.

Each route documents the statuses it can give (``_errors.error_responses``): a public route no 401, a route without
a body no 400/413/415, the downloads 206 and 416 with their ``Range`` headers. The document is built from the app as
the schemathesis test builds it; the answers come from the real app on both back-end sets, and each must be one the
document names for its route, with the headers the document says it carries.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacecomputer.api import create_app
from spacecomputer.api._platform import analysis_blob_prefix
from spacecomputer.storage import Analysis, JobStatus, Video, VideoStatus
from tests.api.conftest import Api, api_settings

DOCUMENT: dict[str, Any] = create_app(api_settings({"library_dir": Path("unused")})).openapi()
EVERY_ROUTE = {"429", "500", "503"}
RANGE_DOWNLOADS = {
    "/api/v1/videos/{video_id}/content",
    "/api/v1/analyses/{analysis_id}/report",
    "/api/v1/analyses/{analysis_id}/overlay",
    "/api/v1/analyses/{analysis_id}/artefacts/{name}",
}
DATA = bytes(range(256)) * 4
"""The downloaded file of the Range tests: 1,024 bytes, each position's byte its own."""


def _answers(method: str, template: str) -> dict[str, Any]:
    answers: dict[str, Any] = DOCUMENT["paths"][template][method.lower()]["responses"]
    return answers


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in DOCUMENT["paths"].items() for method, operation in item.items()]


def _undocumented(method: str, template: str, response: httpx.Response) -> str | None:
    """Say how ``response`` departs from what the document names for the route (``None``: it does not)."""
    answers = _answers(method, template)
    status = str(response.status_code)
    if status not in answers:
        return f"{method.upper()} {template} answered {status}; documented: {', '.join(sorted(answers))}"
    for name, header in answers[status].get("headers", {}).items():
        value = response.headers.get(name)
        if value is None:
            if header.get("required"):
                return f"{method.upper()} {template} answered {status} without its {name} header"
        elif not re.search(header["schema"].get("pattern", ""), value):
            return f"{method.upper()} {template} answered {status} with {name}: {value!r}, not as documented"
    if response.status_code >= 400 and set(response.json()["error"]) != {"code", "message", "details", "request_id"}:
        return f"{method.upper()} {template} answered {status} without the error body: {response.text[:200]}"
    return None


def _assert_documented(method: str, template: str, response: httpx.Response) -> None:
    problem = _undocumented(method, template, response)
    assert problem is None, problem


@pytest.mark.parametrize(
    ("method", "template", "statuses"),
    [
        ("get", "/api/v1/users/me", {"200", "401"}),
        ("post", "/api/v1/users", {"201", "400", "409", "413", "422"}),
        ("post", "/api/v1/users/login", {"200", "400", "401", "413", "422"}),
        ("get", "/api/v1/admin/stats", {"200", "401", "403"}),
        ("get", "/api/v1/videos/{video_id}", {"200", "401", "404", "422"}),
        ("put", "/api/v1/videos/{video_id}/chunks/{index}", {"200", "401", "403", "404", "409", "413", "415", "422"}),
        ("get", "/api/v1/videos/{video_id}/content", {"200", "206", "401", "404", "409", "416", "422"}),
        ("get", "/api/v1/analyses/{analysis_id}/overlay", {"200", "206", "401", "404", "409", "416", "422"}),
        ("get", "/api/v1/analyses/{analysis_id}/results", {"200", "401", "404", "409", "422"}),
        ("post", "/api/v1/poses/sessions/{session_id}/undo", {"200", "401", "403", "404", "409", "422"}),
    ],
)
def test_a_route_documents_the_errors_it_can_answer(method: str, template: str, statuses: set[str]) -> None:
    assert set(_answers(method, template)) == statuses | EVERY_ROUTE


@pytest.mark.parametrize(
    ("method", "template", "statuses"), [("get", "/health", {"200"}), ("get", "/ready", {"200", "503"})]
)
def test_health_routes_keep_their_own_answers(method: str, template: str, statuses: set[str]) -> None:
    assert set(_answers(method, template)) == statuses


def test_every_error_answer_documents_the_error_body() -> None:
    body = {"$ref": "#/components/schemas/ErrorBody"}
    for method, path, operation in _operations():
        for status, answer in operation["responses"].items():
            if path.startswith("/api/v1/") and int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == body, (method, path, status)
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]  # FastAPI's own 422, replaced everywhere


def test_the_range_downloads_document_206_416_and_the_range_header() -> None:
    with_206 = {path for method, path, operation in _operations() if "206" in operation["responses"]}
    with_416 = {path for method, path, operation in _operations() if "416" in operation["responses"]}
    with_range = {
        path
        for method, path, operation in _operations()
        if any(
            parameter["in"] == "header" and parameter["name"] == "Range"
            for parameter in operation.get("parameters", [])
        )
    }
    assert with_206 == with_416 == with_range == RANGE_DOWNLOADS
    for path in RANGE_DOWNLOADS:
        answers = _answers("get", path)
        assert answers["206"]["headers"]["Content-Range"]["required"]
        assert re.search(answers["206"]["headers"]["Content-Range"]["schema"]["pattern"], "bytes 0-99/1024")
        assert re.search(answers["416"]["headers"]["Content-Range"]["schema"]["pattern"], "bytes */1024")
        assert {"Accept-Ranges"} <= set(answers["200"]["headers"]) & set(answers["206"]["headers"])


def _filled(path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Return ``path`` with each path parameter an id that names nothing (a fresh UUID, or a made-up name), and a
    value for each required query parameter."""
    query = {}
    for parameter in operation.get("parameters", []):
        value = str(uuid.uuid4()) if parameter["schema"].get("format") == "uuid" else "no-such-thing"
        if parameter["in"] == "path":
            path = path.replace(f"{{{parameter['name']}}}", value)
        elif parameter["in"] == "query" and parameter["required"]:
            query[parameter["name"]] = value
    return path, query


@pytest.mark.anyio
async def test_every_get_route_answers_only_what_it_documents(api: Api) -> None:
    user = await api.new_user()
    created = await api.client.post(
        "/api/v1/users/me/api-keys", json={"name": "uploads", "scopes": ["video.upload"]}, headers=user.headers
    )
    assert created.status_code == 201, created.text
    callers = {
        "anonymous": {},
        "user": user.headers,
        "api key": {"X-API-Key": created.json()["key"]},
        "refused token": {"Authorization": "Bearer not-a-token"},
    }
    problems, statuses = [], set()
    for method, path, operation in _operations():
        if method != "get":
            continue
        url, query = _filled(path, operation)
        for caller, headers in callers.items():
            response = await api.client.get(url, params=query, headers=headers)
            statuses.add(response.status_code)
            problem = _undocumented(method, path, response)
            if problem is not None:
                problems.append(f"{caller}: {problem}")
            if caller == "user" and url != path:  # an id that names nothing of the user's
                assert response.status_code == 404, (url, response.text)
    assert problems == []
    assert {200, 401, 403, 404} <= statuses


async def _succeeded_analysis(api: Api, owner_id: uuid.UUID, file_name: str) -> uuid.UUID:
    """Store a succeeded analysis of ``owner_id`` whose run holds ``file_name`` (:data:`DATA`); return its id."""
    analysis_id = uuid.uuid4()
    prefix = analysis_blob_prefix(owner_id, analysis_id)
    async with api.platform.database.session() as session, session.begin():
        session.add(Analysis(id=analysis_id, owner_id=owner_id, status=JobStatus.SUCCEEDED, run_key=prefix))
    await api.platform.blobs.put_bytes(prefix + file_name, DATA)
    return analysis_id


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("route", "file_name"),
    [("report", "report.html"), ("overlay", "overlay.mp4"), ("artefacts/{name}", "metrics.csv")],
)
async def test_a_run_file_download_answers_ranges_as_documented(api: Api, route: str, file_name: str) -> None:
    owner = await api.new_user()
    analysis_id = await _succeeded_analysis(api, owner.id, file_name)
    template = f"/api/v1/analyses/{{analysis_id}}/{route}"
    url = template.format(analysis_id=analysis_id, name=file_name)
    size = len(DATA)

    async def get(**headers: str) -> httpx.Response:
        response = await api.client.get(url, headers=owner.headers | headers)
        _assert_documented("get", template, response)
        return response

    whole = await get()
    assert (whole.status_code, whole.content, whole.headers["accept-ranges"]) == (200, DATA, "bytes")
    part = await get(Range="bytes=10-19")
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, DATA[10:20], f"bytes 10-19/{size}")
    for refused_range in (f"bytes={size}-", "bytes=-0", "bytes=abc"):
        refused = await get(Range=refused_range)
        assert refused.status_code == 416, refused_range
        assert (refused.headers["content-range"], refused.headers["accept-ranges"]) == (f"bytes */{size}", "bytes")
        assert refused.json()["error"]["code"] == "range_not_satisfiable"
        assert refused.json()["error"]["details"] == {"size_bytes": size}
    for conditional_range in ("bytes=10-19", f"bytes={size}-"):  # no validator can match: the whole file
        conditional = await get(Range=conditional_range, **{"If-Range": '"some-etag"'})
        assert (conditional.status_code, conditional.content) == (200, DATA), conditional_range


@pytest.mark.anyio
async def test_a_video_download_answers_ranges_as_documented(api: Api) -> None:
    owner = await api.new_user()
    video_id, sha256 = uuid.uuid4(), hashlib.sha256(DATA).hexdigest()
    key = f"users/{owner.id}/videos/{video_id}/original"
    await api.platform.blobs.put_bytes(key, DATA)
    async with api.platform.database.session() as session, session.begin():
        session.add(
            Video(
                id=video_id,
                owner_id=owner.id,
                filename="clip.mp4",
                storage_key=key,
                total_size_bytes=len(DATA),
                chunk_size_bytes=len(DATA),
                sha256=sha256,
                status=VideoStatus.READY,
                size_bytes=len(DATA),
                probe={"container": "mov,mp4,m4a,3gp,3g2,mj2", "codec": "h264"},
            )
        )
    template = "/api/v1/videos/{video_id}/content"
    url, size = template.format(video_id=video_id), len(DATA)

    async def get(**headers: str) -> httpx.Response:
        response = await api.client.get(url, headers=owner.headers | headers)
        _assert_documented("get", template, response)
        return response

    assert (await get()).content == DATA
    part = await get(Range="bytes=-24")
    assert (part.status_code, part.content) == (206, DATA[-24:])
    assert part.headers["content-range"] == f"bytes {size - 24}-{size - 1}/{size}"
    refused = await get(Range=f"bytes={size + 5}-")
    assert (refused.status_code, refused.headers["content-range"]) == (416, f"bytes */{size}")
    assert refused.json()["error"]["code"] == "range_not_satisfiable"
    assert (await get(Range="bytes=abc")).status_code == 200  # a malformed range is ignored here
    same = await get(Range="bytes=0-9", **{"If-Range": f'"{sha256}"'})
    assert (same.status_code, same.content) == (206, DATA[:10])
