"""One source for the API's contract: the document comes from the models; bad input is a 400 naming it."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from decoy.api.openapi import REF, ROUTES
from decoy.evidence.schemas import MessageCreate
from decoy.reviews.passes import review_pass
from tests.factories import make_authorization, make_operation, make_profile

BODY_ROUTES = sorted(name for name, spec in ROUTES.items() if spec.body is not None)


def _document(client: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()  # type: ignore[no-any-return]


def _own_schema(model: Any, mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    schema.pop("$defs", None)
    return schema  # type: ignore[no-any-return]


def test_the_document_holds_each_models_own_schema(client: Any) -> None:
    components = _document(client)["components"]["schemas"]
    assert components["MessageCreate"] == _own_schema(MessageCreate, "validation")
    assert components["MessageCreate"]["properties"]["direction"]["enum"] == ["in", "out"]
    assert components["MessageCreate"]["properties"]["sent_at"]["format"] == "date-time"
    for spec in ROUTES.values():
        modes = ((spec.body, "validation"), (spec.form, "validation"), (spec.answer, "serialization"))
        for model, mode in modes:
            if isinstance(model, type):
                assert components[model.__name__] == _own_schema(model, mode), model.__name__


def test_the_document_keeps_the_shared_parts_of_the_contract(client: Any) -> None:
    document = _document(client)
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    error = document["components"]["schemas"]["ErrorDetail"]
    assert set(error["properties"]) == {"code", "message", "field"}
    assert set(error["required"]) == {"code", "message"}
    contact = document["paths"]["/profiles/{profile_id}/contacts"]["post"]
    body = contact["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": REF.format(model="ContactCreate")}
    assert set(contact["responses"]) == {"201", "400", "401", "403", "404", "413"}
    message = document["paths"]["/contacts/{contact_id}/messages"]["post"]["requestBody"]["content"]
    assert set(message) == {"application/json", "multipart/form-data"}
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def _api_rules(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route of the API blueprint."""
    import re

    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_route_is_documented_and_every_documented_path_exists(app: Any, client: Any) -> None:
    documented = {(path, method) for path, item in _document(client)["paths"].items() for method in item}
    routes = _api_rules(app)
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations without a route"


@pytest.fixture
def ids(app: Any, factory: Any) -> dict[str, Any]:
    """An operation where ``dana`` (every non-admin role) may do anything, with evidence and a review."""
    factory.user("dana", "detective", "supervisor", "legal")
    factory.user("sue", "supervisor")
    factory.user("ada", "admin")
    operation = make_operation(app, "dana", name="Contract", members=["sue"])
    authorization = make_authorization(app, "dana", operation, officers=["dana"])
    profile = make_profile(app, operation, authorization, "dana", approver="sue")
    headers = {"Authorization": f"Bearer {factory.token('dana')}"}
    client = app.test_client()
    contact = client.post(f"/api/v1/profiles/{profile}/contacts", headers=headers, json={"counterpart": "c1"})
    review_pass(app)  # the scheduler's pass creates the order's reviews
    reviews = client.get(f"/api/v1/operations/{operation}/reviews", headers=headers).get_json()["items"]
    capture = client.post(f"/api/v1/profiles/{profile}/capture-sessions", headers=headers,
                          json={"device": "laptop 7", "tool": "manual"})
    contact_id = contact.get_json()["id"]
    message = client.post(f"/api/v1/contacts/{contact_id}/messages", headers=headers,
                          data={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello",
                                "attachments": [(io.BytesIO(b"a file"), "file.txt")]})
    note = client.post(f"/api/v1/contacts/{contact_id}/journal", headers=headers, json={"body": "a note"})
    attachment_id = client.get(f"/api/v1/messages/{message.get_json()['id']}",
                               headers=headers).get_json()["attachments"][0]["id"]
    client.post(f"/api/v1/contacts/{contact_id}/category", headers=headers,
                json={"category": "presumed_victim", "reason": "r"})
    case = client.get(f"/api/v1/contacts/{contact_id}/safeguarding", headers=headers).get_json()["id"]
    hold = client.post(f"/api/v1/contacts/{contact_id}/legal-holds", headers=headers,
                       json={"reason": "r"}).get_json()["id"]
    other = client.post(f"/api/v1/profiles/{profile}/contacts", headers=headers,
                        json={"counterpart": "c2"}).get_json()["id"]
    disposal = client.post(f"/api/v1/contacts/{other}/disposals", headers=headers,
                           json={"reason": "r", "decision_reference": "D-1"}).get_json()["id"]
    closed = make_operation(app, "dana", name="Closed")
    end_report = client.post(f"/api/v1/operations/{closed}/close", headers=headers,
                             json={"reason": "ended"}).get_json()["end_report"]["id"]
    return {"headers": headers, "attachment_id": attachment_id, "note_id": note.get_json()["id"],
            "admin_headers": {"Authorization": f"Bearer {factory.token('ada')}"},
            "username": "sue", "operation_id": operation, "authorization_id": authorization,
            "profile_id": profile, "contact_id": contact_id, "review_id": reviews[0]["id"],
            "capture_session_id": capture.get_json()["id"], "message_id": message.get_json()["id"],
            "end_report_id": end_report, "case_id": case, "hold_id": hold,
            "disposal_id": disposal}


#: The routes only an admin may call (``dana`` holds every other role).
ADMIN_ENDPOINTS = {"api.set_verbalisant_code"}


def _post(app: Any, ids: dict[str, Any], endpoint: str, **kwargs: Any) -> Any:
    spec = ROUTES[endpoint]
    path = "/api/v1" + spec.path.format(**ids)
    headers = ids["admin_headers"] if endpoint in ADMIN_ENDPOINTS else ids["headers"]
    return app.test_client().open(path, method=spec.method, headers=headers, **kwargs)


def _refused_field(answer: Any) -> str:
    assert answer.status_code == 400, answer.get_data(as_text=True)
    return answer.get_json()["error"]["field"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("endpoint", BODY_ROUTES)
def test_each_field_of_each_body_is_named_when_malformed(app: Any, ids: Any, endpoint: str) -> None:
    model = ROUTES[endpoint].body
    assert model is not None
    fields = list(model.model_fields.items())
    for name, _field in fields:
        # An object fits no field; the first problem is this field, or a required one declared before it.
        expected = next(other for other, info in fields if other == name or info.is_required())
        assert _refused_field(_post(app, ids, endpoint, json={name: {"not": "this"}})) == expected, name


@pytest.mark.parametrize("endpoint", BODY_ROUTES)
@pytest.mark.parametrize(
    "raw",
    [b"[1, 2]", b"not json", b'{"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", b'"\\ud800"',
     b"{" + b'"x": 1, ' * 10 + b"}"],
    ids=["a list", "not JSON", "nested deeply", "a lone string", "broken"],
)
def test_a_body_that_is_no_json_object_is_refused_naming_the_body(
    app: Any, ids: dict[str, Any], endpoint: str, raw: bytes
) -> None:
    answer = _post(app, ids, endpoint, data=raw, content_type="application/json")
    assert _refused_field(answer) == "body"


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("api.create_operation", {"name": "half \ud800 pair"}, "name"),
        ("api.create_operation", {"name": "nul \x00 byte"}, "name"),
        ("api.create_contact", {"counterpart": "half \ud800 pair"}, "counterpart"),
        ("api.add_member", {"username": 2**70}, "username"),
        ("api.propose_profile", {"authorization_id": 2**70, "platform": "p"}, "authorization_id"),
        ("api.propose_profile", {"authorization_id": -(2**70), "platform": "p"}, "authorization_id"),
        ("api.log_message", {"direction": "in", "sent_at": "2026-03-02T10:00:00Z", "body": "x",
                             "corrects": 2**64}, "corrects"),
        ("api.decide", {"decision": "continue", "rationale": 1e400}, "rationale"),
    ],
)
def test_hostile_values_are_a_400_naming_the_field(
    app: Any, ids: dict[str, Any], endpoint: str, body: dict[str, Any], field: str
) -> None:
    raw = json.dumps(body, ensure_ascii=True, allow_nan=True).encode()
    answer = _post(app, ids, endpoint, data=raw, content_type="application/json")
    assert _refused_field(answer) == field


def test_a_proposal_on_a_platform_the_order_does_not_permit_is_the_documented_409(
    app: Any, client: Any, ids: dict[str, Any]
) -> None:
    proposal = _document(client)["paths"]["/operations/{operation_id}/profiles"]["post"]
    assert proposal["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": REF.format(model="Error")}
    answer = _post(app, ids, "api.propose_profile", json={
        "authorization_id": ids["authorization_id"], "platform": "elsewhere", "handle": "far_away"})
    assert answer.status_code == 409, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "rule_violation" and error["field"] == "platform"
    assert error["message"].startswith("platform rule: ")


def test_form_fields_are_named_too(app: Any, ids: dict[str, Any]) -> None:
    files = {"file": (io.BytesIO(b"%PDF-1.4"), "order.pdf"), "kind": "memo"}
    answer = _post(app, ids, "api.attach_document", data=files, content_type="multipart/form-data")
    assert _refused_field(answer) == "kind"
    form = "multipart/form-data"
    answer = _post(app, ids, "api.attach_document", data={"kind": "order"}, content_type=form)
    assert _refused_field(answer) == "file"
    message = {"direction": "in", "sent_at": "2026-03-02T10:00:00Z", "corrects": "twelve",
               "attachments": [(io.BytesIO(b"x"), "x.txt")]}
    answer = _post(app, ids, "api.log_message", data=message, content_type="multipart/form-data")
    assert _refused_field(answer) == "corrects"
    stray = {"direction": "in", "sent_at": "2026-03-02T10:00:00Z", "photo": (io.BytesIO(b"x"), "x.png")}
    answer = _post(app, ids, "api.log_message", data=stray, content_type="multipart/form-data")
    assert _refused_field(answer) == "photo"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/operations?limit=0", "limit"),
        ("/operations?after=99999999999999999999999", "after"),
        ("/authorizations?status=sleeping", "status"),
        ("/search?q=x", "q"),
        ("/audit/entries?start=" + "9" * 5000, "start"),
        ("/audit/proofs/consistency?first=1", "second"),
    ],
)
def test_query_arguments_are_named_when_malformed(app: Any, ids: Any, path: str, field: str) -> None:
    answer = app.test_client().get("/api/v1" + path, headers=ids["headers"])
    assert _refused_field(answer) == field
