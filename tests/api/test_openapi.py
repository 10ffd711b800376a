"""The OpenAPI document: valid OpenAPI 3.1, complete (every route of the app and every tool of the registry),
faithful to the settings models, and served (YAML, JSON, llms.txt, llms-full.txt) without authentication."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pydantic import BaseModel, Field
from quart import Blueprint

from actors import catalog
from protocols.tools import REGISTRY
from service import apidoc, openapi, openapi_content, openapi_tools
from service.app import create_app
from service.auth import require
from service.config import Config
from service.toolrun import supports_batch, waits_for_result


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    catalog.load()
    return create_app(Config.from_env(data_dir=str(tmp_path_factory.mktemp("openapi"))))


@pytest.fixture(scope="module")
def doc(app):
    return openapi.build(app, strict=True)


def test_validates_against_the_openapi_31_meta_schema(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc, cls=OpenAPIV31SpecValidator)
    # and it is plain JSON (what /api/v1/openapi.json serves)
    assert json.loads(json.dumps(doc)) == doc


def test_every_registered_route_is_described(app, doc):
    routes = openapi.app_routes(app)
    assert len(routes) > 50
    for method, rule, _view in routes:
        if rule == openapi.TOOLS_RULE:
            continue
        path = openapi.openapi_path(rule)
        assert path in doc["paths"], rule
        op = doc["paths"][path].get(method.lower())
        assert op is not None, f"{method} {rule}"
        assert op["summary"] and op["summary"] != f"{method} {rule}", f"{method} {rule} has no description"
        assert op["responses"], f"{method} {rule}"


def test_a_route_without_a_description_fails_the_strict_build(tmp_path):
    app = create_app(Config.from_env(data_dir=str(tmp_path)))
    extra = Blueprint("extra_for_test", __name__)

    @extra.get("/api/v1/not-described")
    async def not_described():
        return "x"

    app.register_blueprint(extra)
    with pytest.raises(openapi.UndocumentedRoute, match="/api/v1/not-described"):
        openapi.build(app, strict=True)
    # the server itself still serves a document (the route is listed as not yet described)
    assert "/api/v1/not-described" in openapi.build(app)["paths"]


def test_a_route_declares_its_description_where_it_is_defined(tmp_path):
    """`@doc` is read from the view whichever side of `require` it sits on; its body model, extra constraints,
    path parameters and answers reach the document, and `require` still decides the permissions shown."""
    app = create_app(Config.from_env(data_dir=str(tmp_path)))
    extra = Blueprint("described_for_test", __name__)

    class Rename(BaseModel):
        name: str = Field(..., min_length=1, max_length=40)

    @extra.put("/api/v1/widgets/<widget_id>")
    @apidoc.doc("Widgets", "Rename a widget", "Names are unique.", body=apidoc.model_body(Rename, minProperties=1),
                responses={200: apidoc.obj({"id": apidoc.STR}, ("id",))}, errors=(404,),
                params={"widget_id": apidoc.ID_PARAM})
    @require("teams:manage")
    async def rename_widget(widget_id):
        return "x"

    @extra.delete("/api/v1/widgets/<widget_id>")
    @require("teams:manage")
    @apidoc.doc("Widgets", "Delete a widget", responses={200: apidoc.ref("Ok")})
    async def delete_widget(widget_id):
        return "x"

    app.register_blueprint(extra)
    built = openapi.build(app, strict=True)
    put = built["paths"]["/api/v1/widgets/{widget_id}"]["put"]
    delete = built["paths"]["/api/v1/widgets/{widget_id}"]["delete"]
    assert (put["summary"], delete["summary"]) == ("Rename a widget", "Delete a widget")
    assert put["description"] == "Names are unique.\n\nRequires: teams:manage."
    assert put["x-required-permissions"] == delete["x-required-permissions"] == ["teams:manage"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert body["minProperties"] == 1 and body["allOf"] == [{"$ref": "#/components/schemas/Rename"}]
    assert built["components"]["schemas"]["Rename"]["properties"]["name"]["maxLength"] == 40
    assert put["parameters"] == [{"name": "widget_id", "in": "path", "required": True, "schema": apidoc.ID_PARAM}]
    assert {"200", "400", "401", "403", "404", "429"} <= set(put["responses"])
    assert delete["responses"]["200"]["content"]["application/json"]["schema"] == apidoc.ref("Ok")


def test_every_tool_is_its_own_operation(doc):
    assert len(REGISTRY) > 100
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for spec in REGISTRY.values():
        path = f"/api/v1/tools/{spec.section.value}/{spec.id}"
        op = doc["paths"][path]["post"]
        assert op["x-tool-id"] == spec.id
        assert op["tags"] == [openapi_content.SECTION_TAGS[spec.section][0]]
        content = op["requestBody"]["content"]
        if spec.body == "json":
            assert set(content) == {"application/json"}, spec.id
        elif spec.body == "either":
            assert set(content) == {"application/json", "multipart/form-data"}, spec.id
        else:
            assert set(content) == {"multipart/form-data"}, spec.id
            props = content["multipart/form-data"]["schema"]["properties"]
            assert "settings" in props
            assert ("files" in props) or ("file" in props), spec.id
            for role in spec.roles:
                assert props[role]["format"] == "binary"
        if spec.mode.value == "long" and not waits_for_result(spec):
            assert "200" not in op["responses"] and "202" in op["responses"], spec.id
        elif spec.response == "json":  # fast tools and AI image tools: 200 when done in time, else 202
            assert {"200", "202"} <= set(op["responses"]), spec.id
        batch = doc["paths"].get(path + "/batch", {}).get("post")
        assert (batch is not None) == supports_batch(spec), spec.id
        for role in spec.roles if batch else ():  # a shared second input, sent once
            assert batch["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][role]
    # sub-routes are there too
    assert "/api/v1/tools/image/gif-tools/info" in doc["paths"]
    assert "/api/v1/tools/pdf/pdf-to-image/preview" in doc["paths"]
    # pdf-to-image is listed under both sections, sub-routes included
    for path in ("/api/v1/tools/image/pdf-to-image", "/api/v1/tools/image/pdf-to-image/info"):
        assert doc["paths"][path]["post"]["x-tool-id"] == path.split("/image/", 1)[1]
    for ai_tool in ("upscale", "remove-background", "passport-photo/analyze"):
        assert "200" in doc["paths"][f"/api/v1/tools/image/{ai_tool}"]["post"]["responses"]
    assert "200" not in doc["paths"]["/api/v1/tools/video/compress-video"]["post"]["responses"]
    batch = doc["paths"]["/api/v1/tools/image/watermark-image/batch"]["post"]
    assert batch["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["files", "watermark"]
    assert "warnings" in doc["components"]["schemas"]["ToolResult"]["properties"]
    assert "warnings" in doc["components"]["schemas"]["AsyncJob"]["properties"]
    upscale = doc["components"]["schemas"]["UpscaleSettings"]["properties"]
    assert upscale["faceEnhance"]["type"] == "boolean"
    save = doc["paths"]["/api/v1/files/save-result"]["post"]["requestBody"]["content"]
    assert set(save) == {"application/json", "multipart/form-data"}
    assert doc["components"]["responses"]["E405"]["headers"]["Allow"]


def test_settings_schemas_come_from_the_models(doc):
    schemas = doc["components"]["schemas"]
    for spec in REGISTRY.values():
        component = schemas[openapi_tools.settings_component(spec)]
        model_fields = spec.settings.model_fields
        aliases = {f.alias or name for name, f in model_fields.items()}
        aliases |= set(openapi_tools.setting_aliases(spec.settings))  # the peer's names, documented as aliases
        assert set(component.get("properties", {})) == aliases, spec.id
        for name, prop in component.get("properties", {}).items():
            assert prop.get("description"), f"{spec.id}.{name} has no description"
    resize = schemas["ResizeSettings"]["properties"]
    assert resize["fit"]["enum"] == ["cover", "contain", "fill", "inside", "outside"]
    assert resize["fit"]["default"] == "cover"
    assert {"minimum": 1, "maximum": 65535, "type": "integer"}.items() <= resize["width"]["anyOf"][0].items()
    assert "withoutEnlargement" in resize  # camelCase, as clients send it
    compress = schemas["CompressSettings"]["properties"]
    assert compress["quality"]["minimum"] == 1 and compress["quality"]["maximum"] == 100


def test_security_schemes_and_public_routes(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["sessionToken"] == {**schemes["sessionToken"], "type": "http", "scheme": "bearer"}
    assert "si_" in schemes["apiKey"]["description"]
    assert schemes["apiKeyHeader"]["in"] == "header" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert doc["paths"]["/api/auth/login"]["post"]["security"] == []
    assert doc["paths"]["/api/v1/health"]["get"]["security"] == []
    assert doc["paths"]["/llms.txt"]["get"]["security"] == []
    users = doc["paths"]["/api/auth/users"]["get"]
    assert "security" not in users and users["x-required-permissions"] == ["users:manage"]
    assert "401" in users["responses"] and "403" in users["responses"]
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code"] and "PROCESSING_FAILED" in error["properties"]["code"]["enum"]


def test_request_bodies_of_identity_routes_come_from_their_models(doc):
    schemas = doc["components"]["schemas"]
    login = doc["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert login == {"$ref": "#/components/schemas/LoginBody"}
    assert schemas["LoginBody"]["required"] == ["username", "password"]
    key = schemas["CreateKeyBody"]["properties"]
    assert key["expiresInDays"]["anyOf"][0]["maximum"] == 3650


def test_served_documents_match_and_are_public(server, doc):
    with httpx.Client(base_url=server.base_url, timeout=60) as anon:
        r = anon.get("/api/v1/openapi.json")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        served = r.json()
        assert set(served["paths"]) == set(doc["paths"])
        validate(served, cls=OpenAPIV31SpecValidator)
        r = anon.get("/api/v1/openapi.yaml")
        assert r.status_code == 200 and "yaml" in r.headers["content-type"]
        assert yaml.safe_load(r.text) == served
        short = anon.get("/llms.txt")
        full = anon.get("/llms-full.txt")
    assert short.status_code == 200 and full.status_code == 200
    assert short.headers["content-type"].startswith("text/plain")
    for spec in REGISTRY.values():
        assert f"`{spec.id}`" in short.text
        assert f"/api/v1/tools/{spec.section.value}/{spec.id}" in full.text
    # the complete text carries each setting with its range, default and description
    assert "- `width` (integer | null; 1..65535): Target width in px" in full.text
    assert '"cover" | "contain" | "fill" | "inside" | "outside"; default "cover"' in full.text
    assert "### POST /api/auth/login" in full.text and "/api/v1/openapi.yaml" in short.text


def test_success_answers_carry_examples_that_match_their_schemas(doc):
    """The interactive docs show concrete request/response examples: error examples on every error answer,
    a result example on every tool and on the job, pipeline and API-key answers; each one is valid against
    the schema it illustrates (a wrong example would teach clients a wrong shape)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:lutra-openapi", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"]}))

    def check(schema, example, where):
        schema = json.loads(json.dumps(schema).replace('"#/components/', '"urn:lutra-openapi#/components/'))
        errors = list(Draft202012Validator(schema, registry=registry).iter_errors(example))
        assert not errors, (where, errors[0].message)

    examples = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if "$ref" in response:
                    response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                media = response.get("content", {}).get("application/json", {})
                if "example" in media:
                    check(media["schema"], media["example"], f"{method} {path} {status}")
                    examples += 1
            if "x-tool-id" in op and not op.get("x-batch"):
                answers = op["responses"]
                assert "example" in answers["202"]["content"]["application/json"], path
                if "200" in answers and "application/json" in answers["200"].get("content", {}):
                    example = answers["200"]["content"]["application/json"]["example"]
                    assert example["downloadUrl"].startswith("/api/v1/download/"), path
    for status, response in doc["components"]["responses"].items():
        media = response["content"]["application/json"]
        check(media["schema"], media["example"], status)
    assert examples > len(REGISTRY)
    execute = doc["paths"]["/api/v1/pipeline/execute"]["post"]["responses"]["200"]["content"]["application/json"]
    assert execute["example"]["stepsCompleted"] == len(execute["example"]["steps"])
    job = doc["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert job["example"]["status"] == "completed"


def test_setting_aliases_are_documented_as_aliases(doc):
    schemas = doc["components"]["schemas"]
    qr = schemas["QrGenerateSettings"]["properties"]
    for alias, primary in (("text", "data"), ("foreground", "colorDark"), ("background", "colorLight"),
                           ("errorCorrection", "errorCorrectionLevel")):
        assert qr[alias]["x-alias-of"] == primary and qr[alias]["deprecated"] is True
        assert f"`{primary}`" in qr[alias]["description"]
    assert schemas["BorderSettings"]["properties"]["size"]["x-alias-of"] == "width"
    assert "tiled" in schemas["WatermarkTextSettings"]["properties"]["position"]["enum"]
    assert "{{index}}" in schemas["BulkRenameSettings"]["properties"]["pattern"]["description"]
    assert "auto" in schemas["RemoveBackgroundSettings"]["properties"]["model"]["enum"]
