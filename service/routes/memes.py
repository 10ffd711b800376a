"""Meme Templates API: the template list with text boxes, full images, thumbnails and the fonts.

Files are looked up by exact name in the manifest / font list (never joined from the request path),
so no name can reach outside the template folder.
"""

from __future__ import annotations

import trio
from quart import Blueprint, send_file

from actors.image import meme_templates
from protocols.errors import ApiError, ErrorCode
from service.apidoc import ANY_OBJECT, binary, doc, obj
from service.auth import require
from service.responses import json_response

bp = Blueprint("memes", __name__)
BASE = "/api/v1/meme-templates"
_assets_lock = trio.Lock()


async def _assets():
    async with _assets_lock:
        return await trio.to_thread.run_sync(meme_templates.assets_dir)


@bp.get(BASE)
@doc(
    "Meme templates", "Templates with their text boxes, and the fonts",
    responses={200: obj({"templates": {"type": "array", "items": ANY_OBJECT},
                         "fonts": {"type": "array", "items": ANY_OBJECT}}, ("templates",))})
@require()
async def list_templates():
    templates = []
    for template in meme_templates.templates().values():
        templates.append({
            "id": template["id"],
            "name": template["name"],
            "width": template["width"],
            "height": template["height"],
            "textBoxes": template["textBoxes"],
            "filename": meme_templates.full_name(template["id"]),
            "url": f"{BASE}/full/{meme_templates.full_name(template['id'])}",
            "thumbnailUrl": f"{BASE}/thumbs/{meme_templates.thumb_name(template['id'])}",
        })
    fonts = [{**f, "url": f"{BASE}/fonts/{f['filename']}"} for f in meme_templates.font_listing()]
    return json_response({"templates": templates, "fonts": fonts})


def _template_for(filename: str) -> str:
    for template_id in meme_templates.templates():
        if meme_templates.full_name(template_id) == filename:
            return template_id
    raise ApiError(ErrorCode.NOT_FOUND, "No such meme template.")


@bp.get(f"{BASE}/full/<path:filename>")
@doc(
    "Meme templates", "A template image", responses={200: binary("image/jpeg", "JPEG")}, errors=(404,))
@require()
async def full_image(filename: str):
    template_id = _template_for(filename)
    folder = await _assets()
    return await _send(folder / "full" / meme_templates.full_name(template_id), "image/jpeg")


@bp.get(f"{BASE}/thumbs/<path:filename>")
@doc(
    "Meme templates", "A template thumbnail", responses={200: binary("image/jpeg", "JPEG")}, errors=(404,))
@require()
async def thumbnail(filename: str):
    template_id = _template_for(filename)
    folder = await _assets()
    return await _send(folder / "thumbs" / meme_templates.thumb_name(template_id), "image/jpeg")


@bp.get(f"{BASE}/fonts/<path:filename>")
@doc(
    "Meme templates", "A font used for meme text", responses={200: binary("font/ttf", "The font")},
    errors=(404,))
@require()
async def font(filename: str):
    path = meme_templates.font_for_filename(filename)
    if path is None or not path.is_file():
        raise ApiError(ErrorCode.NOT_FOUND, "No such font.")
    return await _send(path, "font/otf" if path.suffix == ".otf" else "font/ttf")


async def _send(path, mimetype: str):
    response = await send_file(path, mimetype=mimetype, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
