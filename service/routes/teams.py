"""Teams: list, create, rename, delete (teams:manage). The default team and teams with members stay."""

from __future__ import annotations

import time
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator
from quart import Blueprint, current_app

from actors.store.repos import teams
from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import ID_PARAM, doc, obj, ref
from service.auth import DEFAULT_TEAM_ID, iso_time, require
from service.responses import json_body, json_response
from service.routes._identity import not_found, valid_id
from service.routes.auth import parse

bp = Blueprint("teams", __name__)
TEAM_BODY = obj({"team": ref("Team")}, ("team",), allOf=[ref("Team")])  # the team, also flattened


class TeamBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=100, description="Team name (unique, case-insensitive)")

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(c) < 32 for c in value):
            raise ValueError("name must be printable text")
        return value


def team_json(row, members: int) -> dict:
    return {"id": row.id, "name": row.name, "memberCount": members, "isDefault": row.id == DEFAULT_TEAM_ID,
            "createdAt": iso_time(row.created_at)}


def _unique(conn, name: str, except_id: str | None = None) -> None:
    if teams.name_taken(conn, name, except_id=except_id):
        raise ApiError(ErrorCode.CONFLICT, f"A team named '{name}' already exists.")


@bp.get("/api/v1/teams")
@doc("Teams", "List teams",
     responses={200: obj({"teams": {"type": "array", "items": ref("Team")}}, ("teams",))})
@require("teams:manage")
async def list_teams():
    def read(conn):
        counts = teams.member_counts(conn)
        return [team_json(r, counts.get(r.id, 0)) for r in teams.listing(conn)]

    return json_response({"teams": await current_app.lutra.store.call(read)})


@bp.post("/api/v1/teams")
@doc("Teams", "Create a team", body=TeamBody, responses={201: TEAM_BODY},
     errors=(400, 409))
@require("teams:manage")
async def create_team():
    body = parse(TeamBody, await json_body())

    def write(conn):
        _unique(conn, body.name)
        team_id = str(uuid.uuid4())
        teams.create(conn, team_id, body.name, time.time())
        return team_json(teams.by_id(conn, team_id), 0)

    team = await current_app.lutra.store.call(write)
    audit.record("TEAM_CREATED", target=team["name"], details={"teamId": team["id"]})
    return json_response({"team": team, **team}, 201)


@bp.put("/api/v1/teams/<team_id>")
@doc("Teams", "Rename a team", body=TeamBody,
     responses={200: TEAM_BODY}, errors=(400, 404, 409),
     params={"team_id": ID_PARAM})
@require("teams:manage")
async def rename_team(team_id: str):
    valid_id(team_id, "team")
    body = parse(TeamBody, await json_body())
    services = current_app.lutra

    def write(conn):
        row = teams.by_id(conn, team_id)
        if row is None:
            raise not_found("team")
        _unique(conn, body.name, team_id)
        teams.rename(conn, team_id, body.name)
        return team_json(teams.by_id(conn, team_id), teams.members(conn, team_id)), row.name

    team, old_name = await services.store.call(write)
    services.auth.forget_user()  # cached principals carry the team name
    audit.record("TEAM_UPDATED", target=team["name"], details={"teamId": team_id, "fromName": old_name})
    return json_response({"team": team, **team})


@bp.delete("/api/v1/teams/<team_id>")
@doc(
    "Teams", "Delete a team", "The default team and teams with members cannot be deleted (CONFLICT).",
    responses={200: ref("Ok")}, errors=(404, 409), params={"team_id": ID_PARAM})
@require("teams:manage")
async def delete_team(team_id: str):
    valid_id(team_id, "team")

    def write(conn):
        row = teams.by_id(conn, team_id)
        if row is None:
            raise not_found("team")
        if row.id == DEFAULT_TEAM_ID:
            raise ApiError(ErrorCode.CONFLICT, "The default team cannot be deleted.")
        members = teams.members(conn, team_id)
        if members:
            raise ApiError(ErrorCode.CONFLICT, f"The team still has {members} member(s); move them first.")
        teams.delete_team(conn, team_id)
        return row

    row = await current_app.lutra.store.call(write)
    audit.record("TEAM_DELETED", target=row.name, details={"teamId": team_id})
    return json_response({"ok": True})
