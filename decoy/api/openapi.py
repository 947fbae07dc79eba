"""The OpenAPI 3.1 document of /api/v1, generated from each route's declaration and the models it names.

A route is declared once, where it is defined: ``@route(bp, "/contacts/<int:contact_id>", ...)`` registers
the view on the blueprint and records its body, form, query and answer models, its success status and its
error statuses. ``build_document`` turns those records into paths, and the models' own JSON schemas
(``model_json_schema``) into components. A small hand-rolled generator rather than spectree or
flask-openapi3: those bring their own request parsing, error format and route registration, where the API
keeps Flask's routing, the app's id converter and error answers, and reads each body at the moment its
handler chooses (after the access checks).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from flask import Blueprint, current_app
from pydantic import BaseModel

from ..errors import Error
from ..models import MAX_ID

REF = "#/components/schemas/{model}"
BINARY = {"type": "string", "format": "binary"}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
View = TypeVar("View", bound=Callable[..., Any])
Mode = Literal["validation", "serialization"]


@dataclass(frozen=True)
class Content:
    """An answer that is not a JSON model: its media types and the schema of its content."""

    media_types: tuple[str, ...]
    schema: dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One operation of the API as its view declares it."""

    rule: str
    method: str
    endpoint: str
    summary: str
    body: type[BaseModel] | None = None
    body_required: bool = True
    form: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | Content | None = None
    status: int = 200
    #: Other success statuses with the same answer (e.g. 200 when a file was kept before, beside 201).
    also: tuple[int, ...] = ()
    errors: tuple[int, ...] = ()
    public: bool = False

    @property
    def path(self) -> str:
        """The OpenAPI path: ``/contacts/{contact_id}`` for ``/contacts/<int:contact_id>``."""
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


#: Every declared route, by endpoint (``api.create_contact``).
ROUTES: dict[str, Route] = {}


def route(bp: Blueprint, rule: str, method: str = "GET", **description: Any) -> Callable[[View], View]:
    """Register the view on ``bp`` and record what it reads and answers for the OpenAPI document."""

    def decorate(view: View) -> View:
        endpoint = f"{bp.name}.{view.__name__}"
        summary = (inspect.getdoc(view) or view.__name__).splitlines()[0]
        ROUTES[endpoint] = Route(rule, method.upper(), endpoint, summary, **description)
        return bp.route(rule, methods=[method])(view)

    return decorate


def declared(endpoint: str | None) -> Route | None:
    """The declaration of the route that ``endpoint`` names, if it has one."""
    return ROUTES.get(endpoint or "")


def build_document(bp: Blueprint) -> dict[str, Any]:
    """The whole OpenAPI document of the routes declared on ``bp``."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES.values():
        if spec.endpoint.startswith(bp.name + "."):
            paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, components)
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Decoy API", "version": "1"},
        "servers": [{"url": bp.url_prefix or "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": cookie,
                    "description": "the web session; POST also needs the X-CSRFToken header",
                },
            },
        },
    }


def _operation(spec: Route, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": spec.endpoint.split(".", 1)[1], "summary": spec.summary}
    parameters = _path_parameters(spec.rule) + _query_parameters(spec.query)
    if parameters:
        operation["parameters"] = parameters
    content = {}
    if spec.body is not None:
        content["application/json"] = {"schema": _component(spec.body, "validation", components)}
    if spec.form is not None:
        content["multipart/form-data"] = {"schema": _component(spec.form, "validation", components)}
    if content:
        operation["requestBody"] = {"required": spec.body_required, "content": content}
    operation["responses"] = _responses(spec, components)
    if spec.public:
        operation["security"] = []
    return operation


def _responses(spec: Route, components: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": spec.summary}
    if isinstance(spec.answer, Content):
        answer["content"] = {media: {"schema": spec.answer.schema} for media in spec.answer.media_types}
    elif spec.answer is not None:
        schema = _component(spec.answer, "serialization", components)
        answer["content"] = {"application/json": {"schema": schema}}
    error_schema = _component(Error, "serialization", components)
    error = {"description": "error", "content": {"application/json": {"schema": error_schema}}}
    statuses = sorted(set(spec.errors) | (set() if spec.public else {401}))
    successes = {str(status): answer for status in (spec.status, *spec.also)}
    return {**successes, **{str(status): error for status in statuses}}


def _component(model: type[BaseModel], mode: Mode, components: dict[str, Any]) -> dict[str, str]:
    """A reference to ``model``'s schema, added to ``components`` with the models it refers to."""
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        if components.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are named {name}")
    return {"$ref": REF.format(model=model.__name__)}


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = ID_SCHEMA if converter == "int" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        # A query string has no null: an optional argument is simply left out.
        prop = next((p for p in prop.get("anyOf", []) if p.get("type") != "null"), prop)
        parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return parameters
