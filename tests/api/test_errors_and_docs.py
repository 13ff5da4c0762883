"""Every error is RFC 9457 problem+json; the OpenAPI document and docs are served."""

from __future__ import annotations

import logging

from tests.api.conftest import assert_problem


def test_an_unknown_route_is_a_404_problem(client):
    body = assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert body["type"] == "urn:peermatch:problem:not-found"


def test_a_wrong_method_is_a_405_problem_with_allow(client):
    r = client.put("/api/v1/me")
    assert_problem(r, 405)
    assert "GET" in r.headers["Allow"]


def test_an_oversized_body_is_a_413_problem(client):
    # The test app accepts at most 64 KiB.
    r = client.post(
        "/api/v1/accounts",
        data=b'{"email": "' + b"a" * 70_000 + b'"}',
        content_type="application/json",
    )
    assert_problem(r, 413)


def test_a_body_that_is_not_json_is_a_problem(client):
    r = client.post("/api/v1/accounts", data="{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert_problem(r, r.status_code)


def test_a_body_of_the_wrong_type_names_the_body(client):
    r = client.post("/api/v1/accounts", json=["a", "list"])
    assert_problem(r, 422, "body")


def test_an_unexpected_exception_is_a_500_problem_without_traceback(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret-internal-detail")

    with caplog.at_level(logging.ERROR, logger="peermatch.errors"):
        r = client.get("/boom")
    body = assert_problem(r, 500)
    assert "secret-internal-detail" not in r.get_data(as_text=True)
    assert body["type"] == "urn:peermatch:problem:internal-error"
    # Logged server-side as one line: the class, where it was raised, the route.
    (record,) = caplog.records
    assert record.exc_info is None and "secret-internal-detail" not in record.getMessage()
    assert "RuntimeError" in record.getMessage() and "/boom" in record.getMessage()
    assert "test_errors_and_docs.py:" in record.getMessage()


def test_a_forbidden_action_is_a_403_problem(client, new_user):
    user = new_user()
    assert_problem(client.post("/api/v1/programs", json={}, headers=user["headers"]), 403)


def test_the_openapi_document_describes_the_api(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    spec = r.json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/programs/{program_id}/profile" in spec["paths"]
    profile_post = spec["paths"]["/api/v1/programs/{program_id}/profile"]["post"]
    assert profile_post["security"] == [{"bearerAuth": []}]
    assert profile_post["summary"] == "Create your profile in the program."
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert {"Profile", "ProfilePatch", "Problem"} <= set(spec["components"]["schemas"])
    # Every operation has a summary (the view's one-line docstring).
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert op.get("summary"), (method, path)


def test_swagger_ui_renders(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in page and "/api/openapi.json" in page
    # The UI's assets are served by the app itself: no CDN needed.
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/api/docs/static/{asset}") as r:
            assert r.status_code == 200 and len(r.get_data()) > 1000


def test_readiness_is_503_while_the_schema_is_not_migrated(client):
    # The test database is built with create_all, so Alembic has no revision on record.
    body = assert_problem(client.get("/readyz"), 503)
    assert body["revision"] is None and body["head"]
