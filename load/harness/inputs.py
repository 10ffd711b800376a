"""Inputs the harness generates: images, a video clip, PDFs and a letter."""

from __future__ import annotations

import subprocess
from pathlib import Path

GLOBAL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]  # ffmpeg's quiet flags


def image_inputs(folder: Path) -> dict[str, Path]:
    """The bench's images: a 12 MP photo-like JPEG, a small PNG, collage tiles, a text line, a subject."""
    import pyvips

    x = pyvips.Image.xyz(4000, 3000)
    big = (x[0] * (255 / 3999)).bandjoin([x[1] * (255 / 2999), (x[0] + x[1]) % 256]).cast("uchar")
    # texture so the JPEG is photo-sized (~3 MB), not a trivially compressible gradient
    noise = pyvips.Image.gaussnoise(4000, 3000, sigma=8).cast("uchar")
    big = (big + noise.bandjoin([noise, noise])).cast("uchar").copy(interpretation="srgb")
    paths = {"large.jpg": folder / "large.jpg", "small.png": folder / "small.png"}
    big.jpegsave(str(paths["large.jpg"]), Q=90)
    big.thumbnail_image(200, height=150, size="force").pngsave(str(paths["small.png"]))
    for i in range(4):  # collage tiles
        tile = big.crop(i * 900, i * 600, 1200, 900)
        paths[f"tile{i}.jpg"] = folder / f"tile{i}.jpg"
        tile.jpegsave(str(paths[f"tile{i}.jpg"]), Q=85)
    # a line of text for OCR, and a subject on a plain background for background removal
    text = pyvips.Image.text("Lutra reads this sentence from the image.", dpi=300, font="DejaVu Sans")
    page = (255 - text).gravity("centre", text.width + 80, text.height + 80, extend="white")
    paths["text.png"] = folder / "text.png"
    page.cast("uchar").pngsave(str(paths["text.png"]))
    disc = pyvips.Image.xyz(640, 480)
    inside = ((disc[0] - 320) ** 2 + (disc[1] - 240) ** 2) < 150 ** 2
    subject = inside.ifthenelse([200, 60, 40], [250, 250, 250]).cast("uchar").copy(interpretation="srgb")
    paths["subject.jpg"] = folder / "subject.jpg"
    subject.jpegsave(str(paths["subject.jpg"]), Q=90)
    return paths


def make_large_subject(folder: Path) -> Path:
    """A photo-sized (12 MP) subject for remove-background-12mp (made only when that scenario runs): the
    large test image's texture inside a disc, a plain background around it."""
    import pyvips

    x = pyvips.Image.xyz(4000, 3000)
    texture = (x[0] * (255 / 3999)).bandjoin([x[1] * (255 / 2999), (x[0] + x[1]) % 256]).cast("uchar")
    noise = pyvips.Image.gaussnoise(4000, 3000, sigma=8).cast("uchar")
    texture = (texture + noise.bandjoin([noise, noise])).cast("uchar")
    inside = ((x[0] - 2000) ** 2 + (x[1] - 1500) ** 2) < 1100 ** 2
    path = folder / "subject-12mp.jpg"
    inside.ifthenelse(texture, [250, 250, 250]).cast("uchar").copy(interpretation="srgb").jpegsave(str(path), Q=90)
    return path


def make_clip(folder: Path, seconds: int, height: int) -> Path:
    width = height * 16 // 9
    path = folder / f"clip{height}p.mp4"
    subprocess.run(["ffmpeg", *GLOBAL, "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r=30:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
                   check=True, timeout=600)
    return path


def document_inputs(folder: Path, files: int, pages: int) -> tuple[list[Path], Path]:
    """`files` PDFs of `pages` pages each, and a one-page DOCX letter."""
    from docx import Document
    from reportlab.pdfgen import canvas

    pdfs = []
    for i in range(files):
        path = folder / f"part{i:02d}.pdf"
        c = canvas.Canvas(str(path))
        for n in range(pages):
            c.drawString(72, 720, f"File {i} page {n + 1}")
            c.showPage()
        c.save()
        pdfs.append(path)
    doc = Document()
    doc.add_heading("One-page letter", 1)
    doc.add_paragraph("Dear reader, this is a short document for the warm-versus-cold office comparison.")
    docx = folder / "letter.docx"
    doc.save(docx)
    return pdfs, docx


def mixed_inputs(folder: Path, photo: tuple[int, int], clip_s: int, clip_height: int, *, ai: bool) -> dict[str, Path]:
    """Every input the scenarios use, generated: a textured photo, a small PNG, two PDFs, a .docx, CSV,
    YAML and a short clip with sound (and the AI inputs of load.bench when asked): the soak's inputs."""
    import pyvips

    folder.mkdir(parents=True, exist_ok=True)
    w, h = photo
    x = pyvips.Image.xyz(w, h)
    gradient = (x[0] * (255 / w)).bandjoin([x[1] * (255 / h), (x[0] + x[1]) % 256])
    texture = pyvips.Image.gaussnoise(w, h, sigma=10)
    image = (gradient + texture).cast("uchar").copy(interpretation="srgb")
    paths = {"photo.jpg": folder / "photo.jpg", "small.png": folder / "small.png"}
    image.jpegsave(str(paths["photo.jpg"]), Q=88)
    image.thumbnail_image(240).pngsave(str(paths["small.png"]))
    pdfs, docx = document_inputs(folder, 2, 6)
    paths.update({f"doc{i}.pdf": p for i, p in enumerate(pdfs)})
    paths["letter.docx"] = docx
    paths["table.csv"] = folder / "table.csv"
    paths["table.csv"].write_text("id,name,amount\n" + "".join(f"{i},item {i},{i * 3.5}\n" for i in range(200)))
    paths["config.yaml"] = folder / "config.yaml"
    paths["config.yaml"].write_text("server:\n  port: 1349\n  hosts: [a, b, c]\nworkers: 4\n")
    paths["clip.mp4"] = make_clip(folder, clip_s, clip_height)
    if ai:
        ai_folder = folder / "ai"
        ai_folder.mkdir(exist_ok=True)
        paths.update({k: v for k, v in image_inputs(ai_folder).items() if k in ("text.png", "subject.jpg")})
    return paths
