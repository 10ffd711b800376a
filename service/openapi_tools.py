"""The tools' part of the OpenAPI document: one operation per tool at /api/v1/tools/<section>/<toolId> (plus
/batch where batching applies), its settings schema being the tool's pydantic model as JSON Schema 2020-12,
and the pydantic-to-component conversion the routes' body models share.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from protocols.tools import Mode, ToolSpec
from service.apidoc import BINARY, SCHEMA_REF, json_content, obj, ref
from service.openapi_content import SECTION_TAGS
from service.pipelines import INPUTLESS_MODES, step_refusal
from service.toolrun import sections_of, supports_batch, waits_for_result


def hoist(schema: dict[str, Any], name: str, components: dict[str, Any]) -> None:
    defs = schema.pop("$defs", {})
    components[name] = clean_schema(schema)
    for def_name, sub in defs.items():
        components[f"{name}_{def_name}"] = clean_schema(sub)


def clean_schema(schema: Any) -> Any:
    """Drop pydantic's auto-generated titles (noise in the docs); keep everything that constrains."""
    if isinstance(schema, list):
        return [clean_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {k: clean_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"):
            out[key] = clean_schema(value)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            out[key] = [clean_schema(v) for v in value]
        else:
            out[key] = value
    return out


def settings_component(spec: ToolSpec) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-/_]", spec.id)) + "Settings"


def tool_path(spec: ToolSpec, batch: bool = False, section: str | None = None) -> str:
    return f"/api/v1/tools/{section or spec.section.value}/{spec.id}" + ("/batch" if batch else "")


def setting_aliases(model: type) -> dict[str, str]:
    """{alias: documented name} for every setting that also accepts another name (pydantic AliasChoices:
    the documented name first, then the peer's)."""
    from pydantic import AliasChoices

    out: dict[str, str] = {}
    for field_name, info in model.model_fields.items():
        choices = info.validation_alias
        if not isinstance(choices, AliasChoices):
            continue
        names = [c for c in choices.choices if isinstance(c, str)]
        primary = names[0] if names else field_name
        for alias in names[1:]:
            if alias not in (field_name, primary):
                out[alias] = primary
    return out


def document_aliases(model: type, schema: dict[str, Any]) -> None:
    """Each alias as a property of its own, marked deprecated, pointing at the documented setting."""
    props = schema.get("properties", {})
    for alias, primary in setting_aliases(model).items():
        if primary not in props or alias in props:
            continue
        props[alias] = {**copy.deepcopy(props[primary]), "deprecated": True, "x-alias-of": primary,
                        "description": f"Alias of `{primary}` (the name the peer's current API uses); "
                                       f"`{primary}` wins when both are sent."}
        props[alias].pop("default", None)


def settings_schema(spec: ToolSpec, components: dict[str, Any]) -> dict[str, Any]:
    name = settings_component(spec)
    if name not in components:
        raw = spec.settings.model_json_schema(by_alias=True, ref_template=SCHEMA_REF + name + "_{model}")
        hoist(raw, name, components)
        document_aliases(spec.settings, components[name])
        components[name].setdefault("description", f"Settings of {spec.id} (camelCase names; all optional "
                                                    "unless marked required).")
    return ref(name)


ROLE_TEXT = {
    "watermark": "the watermark image", "overlay": "the image layered on top", "mask": "the mask (white = erase)",
    "subtitle": "the subtitle file (SRT/VTT/ASS)", "audio": "the new audio track", "logo": "a logo for the centre",
    "background": "a background image", "backgroundImage": "a background image (for backgroundType=image)",
}


def tool_multipart_schema(spec: ToolSpec, settings_ref: dict[str, Any]) -> dict[str, Any]:
    low, high = spec.inputs
    props: dict[str, Any] = {}
    required: list[str] = []
    role_count = len(spec.roles)
    primary_max = high - role_count if spec.roles else high
    if primary_max >= 1:
        if primary_max > 1 or (not spec.roles and high > 1):
            props["files"] = {"type": "array", "items": BINARY, "minItems": max(1, low - role_count),
                              "maxItems": primary_max,
                              "description": "The input files, as repeated `files` parts (or `file` parts)"}
            if low:
                required.append("files")
        else:
            props["file"] = {**BINARY, "description": "The input file"}
            if low:
                required.append("file")
    for role in spec.roles:
        props[role] = {**BINARY, "description": f"Second input: {ROLE_TEXT.get(role, role)} (or a second `file` part)"}
        if low >= 2:
            required.append(role)
    props["settings"] = {**settings_ref, "description": "The settings, as a JSON string"}
    return obj(props, required)


def tool_operations(spec: ToolSpec, components: dict[str, Any], permissions) -> list[tuple[str, dict[str, Any]]]:
    settings_ref = settings_schema(spec, components)
    section_tag = SECTION_TAGS[spec.section][0]
    summary = spec.summary or spec.id
    if not waits_for_result(spec):
        timing = "long: answers 202 at once"
    elif spec.mode is Mode.LONG:
        timing = ("AI: answers 200 when done within SYNC_WAIT_MS, else 202; the job may run up to "
                  "JOB_TIMEOUT_LONG_S")
    else:
        timing = "fast"
    facts = [f"Tool id `{spec.id}` ({timing})."]
    low, high = spec.inputs
    if high == 0:
        facts.append("Takes no input file.")
    elif high > 1:
        facts.append(f"Takes {low} files." if low == high else f"Takes {low} to {high} files.")
    if spec.roles:
        facts.append("Named second input: " + ", ".join(f"`{r}`" for r in spec.roles) + ".")
    if spec.accepts:
        facts.append("Accepts: " + ", ".join(sorted(spec.accepts)) + ".")
    if spec.body == "json":
        facts.append("JSON body: the settings object itself.")
    elif spec.body == "either":
        facts.append("Either a JSON body (settings only) or multipart (with the optional file).")
    if spec.response == "file":
        facts.append("Answers with the output file itself; extras travel as X-* headers.")
    if step_refusal(spec) is None:
        facts.append("Usable as a pipeline step" + (" (not in template mode)." if spec.id in INPUTLESS_MODES else "."))
    if spec.body != "json" and spec.inputs[1] >= 1:
        facts.append("An optional `fileId` part (a library file id) saves the result as that file's new version "
                     "(`savedFileId` in the answer).")
    facts.append(f"Requires: {', '.join(permissions)}.")
    content: dict[str, Any] = {}
    if spec.body in ("multipart", "either"):
        content["multipart/form-data"] = {"schema": tool_multipart_schema(spec, settings_ref),
                                          "encoding": {"settings": {"contentType": "application/json"}}}
    if spec.body in ("json", "either"):
        content["application/json"] = {"schema": settings_ref}
    responses: dict[str, Any] = {}
    if spec.response == "file":
        responses["200"] = {"description": "The output file",
                            "headers": {"X-Job-Id": {"schema": {"type": "string"}}},
                            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}
    elif waits_for_result(spec):
        responses["200"] = {"description": "Done", "content": json_content(ref("ToolResult"))}
    responses["202"] = {"description": "Accepted: follow /api/v1/jobs/{jobId}/progress",
                        "content": json_content(ref("AsyncJob"))}
    errors = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 504, 507]
    if spec.family.value in ("vision", "speech"):
        errors.append(501)
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    op_id = "tool_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{spec.section.value}_{spec.id}")
    operation = {
        "tags": [section_tag],
        "summary": summary,
        "description": " ".join(facts),
        "operationId": op_id,
        "x-tool-id": spec.id,
        "x-mode": spec.mode.value,
        "x-required-permissions": list(permissions),
        "requestBody": {"required": spec.body != "either", "content": content},
        "responses": dict(sorted(responses.items())),
    }
    out = [(tool_path(spec), operation)]
    for section in sorted(sections_of(spec) - {spec.section.value}):  # listed in a second section too
        also = copy.deepcopy(operation)
        also["operationId"] = "tool_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{section}_{spec.id}")
        also["description"] += f" Also answers under /api/v1/tools/{spec.section.value}/{spec.id}."
        out.append((tool_path(spec, section=section), also))
    if supports_batch(spec):
        shared = {role: {**BINARY, "description": f"Shared second input: {ROLE_TEXT.get(role, role)}, sent once "
                                                  "and used for every file"} for role in spec.roles}
        batch_schema = obj({
            "files": {"type": "array", "items": BINARY, "minItems": 1, "description": "One job per file"},
            **shared,
            "settings": {**settings_ref, "description": "The settings for every file, as a JSON string"},
        }, ("files", *(spec.roles if spec.inputs[0] >= 2 else ())))
        batch = {
            "tags": [section_tag],
            "summary": f"{summary} (batch: several files, one ZIP)",
            "description": (f"Runs `{spec.id}` on every `files` part"
                            + (" (with the shared " + ", ".join(f"`{r}`" for r in spec.roles) + " part)"
                               if spec.roles else "")
                            + ". One bad file is reported, the rest still "
                            "run; all failed -> 422 with `errors`. The ZIP stays downloadable at "
                            "/api/v1/download/{X-Job-Id}/<name>. Requires: " + ", ".join(permissions) + "."),
            "operationId": op_id + "_batch",
            "x-tool-id": spec.id,
            "x-batch": True,
            "x-required-permissions": list(permissions),
            "parameters": [{"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"},
                            "description": "`respond-async`: answer 202 with the job id at once; its progress "
                                           "frames list each file's state, and the terminal frame's `result` "
                                           "carries the ZIP's `downloadUrl`"}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": batch_schema, "encoding": {"settings": {"contentType": "application/json"}}}}},
            "responses": {
                "200": {"description": "The results as a ZIP",
                        "headers": {"X-Job-Id": {"schema": {"type": "string"}},
                                    "X-File-Results": {"schema": {"type": "string"},
                                                       "description": "URL-encoded JSON: input index -> output name"},
                                    "X-Warnings": {"schema": {"type": "string"},
                                                   "description": "URL-encoded JSON list of warnings (unknown "
                                                                  "settings), when there are any"}},
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                "202": {"description": "Accepted (with `Prefer: respond-async`)",
                        "headers": {"Preference-Applied": {"schema": {"type": "string"}}},
                        "content": json_content(ref("AsyncJob"))},
                **{str(s): {"$ref": f"#/components/responses/E{s}"} for s in (400, 401, 403, 413, 415, 429, 503)},
                "422": {"description": "Every file failed", "content": json_content(ref("BatchError"))},
            },
        }
        batch["responses"] = dict(sorted(batch["responses"].items()))
        out.append((tool_path(spec, batch=True), batch))
    return out
