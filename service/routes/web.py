"""The web app: server-rendered pages at `/` (templates in service/web/templates) and their static files at
`/assets/`. Pages only render what the registry and the caller's permissions say; every action and every
piece of user data goes through the public API from the page's scripts, with the session cookie and the
CSRF token from the page's <meta> tag."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from quart import Blueprint, Response, current_app, redirect, render_template, request

from protocols.errors import ApiError, ErrorCode
from protocols.tools import REGISTRY, Section, ToolSpec
from service.auth import ANONYMOUS_ADMIN, Principal, cookie_token, csrf_token
from service.web import catalogue, forms

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"

bp = Blueprint("web", __name__, template_folder=str(WEB_DIR / "templates"))

# No inline script or style anywhere; blob: for previews of files the page holds, data: for the branding logo.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
       "connect-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

ADMIN_PAGES: tuple[tuple[str, str, str], ...] = (
    # (slug, title, the permission its API needs)
    ("users", "Users", "users:manage"),
    ("teams", "Teams", "teams:manage"),
    ("roles", "Roles", "users:manage"),
    ("settings", "Settings", "settings:read"),
    ("features", "AI features", "features:manage"),
    ("audit", "Audit log", "audit:read"),
    ("health", "Health", "system:health"),
    ("branding", "Branding", "settings:write"),
)


# ---- static files ---------------------------------------------------------------------------------------

@cache
def _asset(name: str) -> tuple[bytes, bytes, str, str] | None:
    """(body, gzipped body, content type, fingerprint) of a file under static/, read once."""
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        content_type = "text/javascript"
    if content_type.startswith("text/") or content_type.endswith(("javascript", "json", "svg+xml")):
        content_type += "; charset=utf-8"
    return body, gzip.compress(body, 9, mtime=0), content_type, hashlib.sha256(body).hexdigest()[:12]


def asset_url(name: str) -> str:
    """`/assets/<name>?v=<content hash>`: cached for a year, and a new build gets a new URL."""
    found = _asset(name)
    return f"/assets/{name}?v={found[3]}" if found else f"/assets/{name}"


def _accepts_gzip() -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


@bp.get("/assets/<path:name>")
async def asset(name: str):
    found = _asset(name) if re.fullmatch(r"[a-zA-Z0-9_./-]+", name) and ".." not in name else None
    if found is None:
        raise ApiError(ErrorCode.NOT_FOUND, "Not found.")
    body, zipped, content_type, version = found
    headers = {"Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff"}
    headers["Cache-Control"] = ("public, max-age=31536000, immutable" if request.args.get("v") == version
                                else "no-cache")
    headers["ETag"] = f'"{version}"'
    if request.headers.get("If-None-Match") == f'"{version}"':
        return Response(b"", 304, headers=headers)
    if _accepts_gzip():
        headers["Content-Encoding"] = "gzip"
        body = zipped
    return Response(body, content_type=content_type, headers=headers)


@bp.get("/assets/brand-logo")
async def brand_logo():
    """The branding logo (a setting holding a data: URL of a raster image), public: the sign-in page shows it."""
    import base64

    value = current_app.lutra.settings.get("brandLogo") or ""
    match = re.fullmatch(r"data:(image/(?:png|jpeg|webp|gif));base64,([A-Za-z0-9+/=]+)", value)
    if not match:
        raise ApiError(ErrorCode.NOT_FOUND, "No logo.")
    return Response(base64.b64decode(match.group(2)), content_type=match.group(1),
                    headers={"Cache-Control": "no-cache"})


# ---- who is looking -------------------------------------------------------------------------------------

async def page_principal() -> Principal | None:
    """The signed-in user of a page request (session cookie), or None. Never raises for a bad cookie."""
    services = current_app.lutra
    if not services.config.auth_enabled:
        return ANONYMOUS_ADMIN
    token = cookie_token()
    return await services.auth.resolve(token) if token else None


def must_change(principal: Principal) -> bool:
    return principal.must_change_password and not current_app.lutra.config.skip_must_change_password


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //): an open redirect would help phishing."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _sign_in_redirect():
    target = request.full_path.rstrip("?") if request.path != "/" else ""
    return redirect("/login" + (f"?next={quote(target, safe='/')}" if target else ""))


async def render(template: str, principal: Principal | None, **context: Any) -> Response:
    settings = current_app.lutra.settings
    token = cookie_token()
    html = await render_template(
        template,
        user=principal,
        csrf=csrf_token(token) if token else "",
        auth_enabled=current_app.lutra.config.auth_enabled,
        brand_name=settings.get("brandName") or "Lutra",
        brand_logo=bool(settings.get("brandLogo")),
        asset=asset_url,
        admin_pages=[p for p in ADMIN_PAGES if principal is not None and principal.can(p[2])],
        **context,
    )
    body = html.encode()
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "Vary": "Accept-Encoding, Cookie"}
    if _accepts_gzip() and len(body) > 1024:
        body = gzip.compress(body, 6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, content_type="text/html; charset=utf-8", headers=headers)


async def signed_in(permission: str | None = None):
    """(principal, None) for a page the caller may see, else (None, the response to send instead)."""
    principal = await page_principal()
    if principal is None:
        return None, _sign_in_redirect()
    if must_change(principal):
        return None, redirect("/change-password")
    if permission and not principal.can(permission):
        return None, await render("denied.html", principal, title="Not allowed", permission=permission)
    return principal, None


# ---- pages ----------------------------------------------------------------------------------------------

@bp.get("/login")
async def login_page():
    principal = await page_principal()
    target = _safe_next(request.args.get("next"))
    if principal is not None:
        return redirect("/change-password" if must_change(principal) else target)
    return await render("login.html", None, title="Sign in", next=target)


@bp.get("/change-password")
async def change_password_page():
    principal = await page_principal()
    if principal is None:
        return _sign_in_redirect()
    return await render("change_password.html", principal, title="Change password", forced=must_change(principal))


@bp.get("/")
async def catalogue_page():
    principal, refused = await signed_in("tools:use")
    if refused:
        return refused
    disabled = current_app.lutra.settings.disabled_tools()
    return await render("catalogue.html", principal, title="Tools", sections=catalogue.sections(disabled))


@bp.get("/tools/<tool_id>")
async def tool_page(tool_id: str):
    principal, refused = await signed_in("tools:use")
    if refused:
        return refused
    spec = _visible_tool(tool_id)
    if spec is None:
        return await render("missing.html", principal, title="No such tool"), 404
    return await render("tool.html", principal, title=catalogue.name(spec.id), **tool_context(spec))


@bp.get("/tools/<tool_id>/form")
async def tool_form(tool_id: str):
    """A tool's settings form alone (the pipeline builder puts one in each step)."""
    principal, refused = await signed_in("tools:use")
    if refused:
        return refused
    spec = _visible_tool(tool_id)
    if spec is None:
        raise ApiError(ErrorCode.NOT_FOUND, "No such tool.")
    step = request.args.get("step", "")
    prefix = f"step{step}-" if step.isdigit() and len(step) < 6 else "step-"
    html = await render_template("_form.html", fields=forms.settings_form(spec), prefix=prefix)
    return Response(html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


def tool_context(spec: ToolSpec) -> dict[str, Any]:
    return {
        "spec": spec,
        "name": catalogue.name(spec.id),
        "group": catalogue.group_of(spec.id),
        "fields": forms.settings_form(spec),
        "accept": forms.accept_attribute(spec),
        "batch": spec.body == "multipart" and not spec.multi_input,
        "needs_file": spec.inputs[0] > 0 and spec.body != "json",
        "takes_file": spec.inputs[1] > 0 and spec.body != "json",
        "role_labels": {role: forms.label_for(role) for role in spec.roles},
        "section_names": catalogue.SECTION_NAMES,
        "prefix": "",
    }


@bp.get("/library")
async def library_page():
    principal, refused = await signed_in("files:own")
    if refused:
        return refused
    disabled = current_app.lutra.settings.disabled_tools()
    tools = [(s.id, catalogue.name(s.id)) for s in sorted(REGISTRY.values(), key=lambda s: s.id)
             if not s.is_subroute and s.inputs[1] > 0 and s.id not in disabled]
    return await render("library.html", principal, title="Library", tools=tools)


@bp.get("/pipelines")
async def pipelines_page():
    principal, refused = await signed_in("pipelines:own")
    if refused:
        return refused
    disabled = current_app.lutra.settings.disabled_tools()
    steps = [(s.id, catalogue.name(s.id)) for s in sorted(REGISTRY.values(), key=lambda s: catalogue.name(s.id))
             if s.pipeline_step and s.id not in disabled]
    return await render("pipelines.html", principal, title="Pipelines", steps=steps)


@bp.get("/account")
async def account_page():
    principal, refused = await signed_in()
    return refused or await render("account.html", principal, title="Account")


@bp.get("/admin")
async def admin_index():
    principal, refused = await signed_in()
    if refused:
        return refused
    pages = [p for p in ADMIN_PAGES if principal.can(p[2])]
    if not pages:
        return await render("denied.html", principal, title="Not allowed", permission="an administration permission")
    return redirect(f"/admin/{pages[0][0]}")


@bp.get("/admin/<slug>")
async def admin_page(slug: str):
    page = next((p for p in ADMIN_PAGES if p[0] == slug), None)
    principal, refused = await signed_in(page[2] if page else None)
    if refused:
        return refused
    if page is None:
        return await render("missing.html", principal, title="Not found"), 404
    context: dict[str, Any] = {}
    if slug == "roles":
        from service.permissions import PERMISSIONS

        context["permissions"] = PERMISSIONS
    if slug == "settings":
        context["tools"] = [(s.id, catalogue.name(s.id), s.section.value) for s in
                            sorted(REGISTRY.values(), key=lambda s: (s.section.value, catalogue.name(s.id)))
                            if not s.is_subroute]
    return await render(f"admin_{slug}.html", principal, title=page[1], slug=slug, **context)


__all__ = ["bp", "Section"]


def _visible_tool(tool_id: str):
    """The tool's declaration if it has a page here: registered, not a sub-route, not disabled."""
    spec = REGISTRY.get(tool_id)
    if spec is None or spec.is_subroute or tool_id in current_app.lutra.settings.disabled_tools():
        return None
    return spec
