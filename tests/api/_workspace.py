"""Helpers for the pipeline, library and durability tests: second users, generated PDFs and videos."""

from __future__ import annotations

import io
import json
import secrets
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pyvips
from PIL import Image

from tests.helpers import Server


def make_user(server: Server, role: str = "user", password: str = "correct-horse-9") -> tuple[str, str]:
    """A new user on `server`: through /api/auth/register when the identity routes exist, otherwise a
    row written straight into the database. Returns (username, token)."""
    username = f"u{secrets.token_hex(4)}"
    with server.client() as c:
        r = c.post("/api/auth/register", json={"username": username, "password": password, "role": role})
    if r.status_code not in (200, 201):
        assert r.status_code in (404, 405), r.text
        from service.auth import hash_password

        now = time.time()
        with sqlite3.connect(server.data_dir / "lutra.db", timeout=30) as db:
            team = db.execute("SELECT id FROM teams LIMIT 1").fetchone()
            db.execute(
                "INSERT INTO users (id, username, password_hash, role, team_id, must_change_password, disabled,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)",
                (str(uuid.uuid4()), username, hash_password(password), role, team[0] if team else None, now, now))
    return username, server.login(username, password)


def pipeline_field(*steps: tuple[str, dict[str, Any]]) -> dict[str, str]:
    return {"pipeline": json.dumps({"steps": [{"toolId": t, "settings": s} for t, s in steps]})}


def image_size(data: bytes) -> tuple[int, int]:
    img = pyvips.Image.new_from_buffer(data, "")
    return img.width, img.height


def image_format(data: bytes) -> str:
    return Image.open(io.BytesIO(data)).format or ""


def make_pdf(path: Path, pages: int = 2, size: tuple[int, int] = (400, 300)) -> Path:
    """A real PDF (Pillow writes one page per image), pages of different colours."""
    images = [Image.new("RGB", size, (40 * i % 255, 120, 200)) for i in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return path


def make_video(path: Path, seconds: float = 1.0, size: str = "320x240") -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=10",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True, timeout=60)
    return path


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_size() for i in range(len(pdf))]
    finally:
        pdf.close()
