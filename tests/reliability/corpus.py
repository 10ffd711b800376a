"""A hostile-input corpus, generated at test time (nothing binary is committed).

Every entry is a file an attacker or a broken client could upload: truncated, wrong magic, empty,
decompression bombs (declared and real), zip bombs, cyclic PDFs, XML/YAML entity bombs, SVGs with scripts
and external references, media whose headers declare absurd durations. `build(folder)` writes them and
returns one `Hostile` per file; `valid_samples(folder)` writes one good file per kind, used as the companion
of multi-input tools.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

# where a YAML or pickle payload would leave its mark if anything executed it
CANARY = Path("/tmp/lutra-hostile-canary")


@dataclass(frozen=True)
class Hostile:
    id: str  # "<format>-<what>"
    format: str  # jpeg, png, gif, webp, tiff, heic, svg, mp4, webm, mp3, wav, pdf, docx, xlsx, csv, json, ...
    path: Path
    claimed_kind: str  # the kind its name claims (the sniffer may see something else)
    note: str
    # a well-formed file that is simply a lot of work (thousands of frames or pages): operator limits
    # (MAX_PDF_PAGES, MAX_VIDEO_DURATION_S) or the job deadline bound it, so 504 TIMEOUT is a fair answer
    expensive: bool = False

    @property
    def filename(self) -> str:
        return self.path.name


# ---- byte-level helpers -------------------------------------------------------------------------------
def zeros_deflate(size_mb: int, *, raw: bool = True) -> tuple[bytes, int, int]:
    """A deflate stream of `size_mb` MiB of zero bytes, made in milliseconds: after a full flush the
    compressor emits the same bytes for the same input, so one compressed MiB is repeated.
    Returns (stream, crc32, adler32) of the uncompressed data."""
    chunk = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    body = block * size_mb + c.flush()
    crc, adler = 0, 1
    for _ in range(size_mb):
        crc = zlib.crc32(chunk, crc)
        adler = zlib.adler32(chunk, adler)
    if raw:
        return body, crc, adler
    return b"\x78\xda" + body + struct.pack(">I", adler), crc, adler


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_image(width: int, height: int, idat: bytes, *, depth: int = 8, colour: int = 0, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def gif_frames(width: int, height: int, frames: int) -> bytes:
    """A GIF whose every frame declares width x height but carries only a clear + end LZW code."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (b"!\xf9\x04\x04\x02\x00\x00\x00"  # graphic control: 20 ms
             + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x01\x2c\x00")
    return head + loop + frame * frames + b";"


def tiff(width: int, height: int, *, loop: bool = False) -> bytes:
    """A little-endian TIFF with one IFD (1-bit, uncompressed, one strip); `loop` points the IFD at itself."""
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 1), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16),
    ]
    ifd_offset = 8 + 16
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value) if typ == 4 else struct.pack("<HHIHH", tag, typ, count,
                                                                                         value, 0)
    ifd += struct.pack("<I", ifd_offset if loop else 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + b"\x00" * 16 + ifd


def zip_with(entries: list[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def zip_bomb(size_mb: int, name: str = "zeros.bin", others: list[tuple[str, bytes]] | None = None) -> bytes:
    """A ZIP whose one deflated entry expands to `size_mb` MiB (ratio about 1000:1), plus `others`."""
    stream, crc, _ = zeros_deflate(size_mb)
    size = size_mb << 20
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for other_name, data in others or []:
            zf.writestr(other_name, data)
    # append the bomb entry by hand (zipfile would compress the whole GiB)
    existing = buf.getvalue()
    cd_start = existing.rfind(b"PK\x05\x06")
    end = existing[cd_start:]
    cd_size, cd_offset = struct.unpack("<II", end[12:20])
    records, central = existing[:cd_offset], existing[cd_offset:cd_offset + cd_size]
    count = struct.unpack("<H", end[10:12])[0]
    fname = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(stream), size, len(fname), 0)
    header_offset = len(records)
    records += local + fname + stream
    central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(stream), size,
                           len(fname), 0, 0, 0, 0, 0, header_offset) + fname
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(central), len(records), 0)
    return records + central + eocd


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=60)


def _patch(data: bytes, marker: bytes, offset: int, value: bytes, occurrence: int = 0) -> bytes:
    at = -1
    for _ in range(occurrence + 1):
        at = data.find(marker, at + 1)
        if at < 0:
            raise ValueError(f"marker {marker!r} not found")
    start = at + offset
    return data[:start] + value + data[start + len(value):]


def _zero_magic(data: bytes, n: int = 8) -> bytes:
    return b"\x00" * n + data[n:]


# ---- valid inputs -------------------------------------------------------------------------------------
def _image_bytes(fmt: str) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (64, 48))
    img.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    if fmt == "heic":
        import pillow_heif

        buf = io.BytesIO()
        pillow_heif.from_pillow(img).save(buf, quality=70)
        return buf.getvalue()
    buf = io.BytesIO()
    img.save(buf, format={"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF"}[fmt])
    return buf.getvalue()


def _pdf_bytes(pages: int = 2) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for i in range(pages):
        pdf.add_blank_page(page_size=(200, 200))
        pdf.pages[i].Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td (Page {i + 1}) Tj ET".encode())
        pdf.pages[i].Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _docx_bytes() -> bytes:
    import docx

    doc = docx.Document()
    doc.add_paragraph("Hostile corpus companion document.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _xlsx_bytes() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["name", "qty"])
    wb.active.append(["apple", 3])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
ODS_CELL = '<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'


def xlsx_with_sheet(body: str, *, head: str = "") -> bytes:
    """A valid xlsx whose first sheet's XML is `head` + <worksheet> + body + </worksheet>."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx_bytes()))
    sheet = (head or '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>') + \
        f'<worksheet xmlns="{SHEET_NS}">{body}</worksheet>'
    return zip_with([(i.filename, sheet.encode() if i.filename == "xl/worksheets/sheet1.xml" else src.read(i))
                     for i in src.infolist()])


def ods_bytes(rows_xml: str, *, head: str = "") -> bytes:
    """A minimal valid ODS spreadsheet whose one table holds `rows_xml` (table:table-row elements)."""
    content = ((head or '<?xml version="1.0" encoding="UTF-8"?>')
               + f'<office:document-content {ODS_NS} office:version="1.2"><office:body><office:spreadsheet>'
               f'<table:table table:name="Sheet1">{rows_xml}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def ods_rows(*rows: list[str]) -> str:
    return "".join(f"<table:table-row>{''.join(cells)}</table:table-row>" for cells in rows)


# spreadsheets whose used area (or, for ODS, whose repeated filled cells) runs to billions of cells
def sheet_bombs() -> dict[str, tuple[str, bytes, str]]:
    """id -> (filename, bytes, note). Each is a few kB; LibreOffice would spend minutes on it as PDF or CSV."""
    one = '<row r="1"><c r="A1"><v>1</v></c></row>'
    cell = ODS_CELL.format(v=1)
    return {
        "xlsx-huge-dimension": ("d.xlsx", xlsx_with_sheet(
            f'<dimension ref="A1:XFD1048576"/><sheetData>{one}'
            '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData>'),
            "a sheet whose used range is A1:XFD1048576 (17 billion cells, 2 filled)"),
        "xlsx-merge-all": ("mg.xlsx", xlsx_with_sheet(
            f'<sheetData>{one}</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'),
            "one cell merged over the whole sheet"),
        "xlsx-sequential-corner": ("sq.xlsx", xlsx_with_sheet(
            f'<sheetData>{one}<row r="1048576">' + "<c/>" * 16383 + '<c><v>2</v></c></row></sheetData>'),
            "cells without references: the 16384th of the last row is XFD1048576"),
        "ods-corner": ("c.ods", ods_bytes(
            ods_rows([cell]) + '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/>'
            '</table:table-row>' + ods_rows(['<table:table-cell table:number-columns-repeated="16383"/>', cell])),
            "one value at the last row and column, reached through repeat counts"),
        "ods-repeated-rows": ("r.ods", ods_bytes(
            '<table:table-row table:number-rows-repeated="1048576">'
            + cell.replace("<table:table-cell ", '<table:table-cell table:number-columns-repeated="16384" ')
            + "</table:table-row>"),
            "a filled row of 16384 cells repeated 1048576 times (17 billion filled cells)"),
        "ods-spanned": ("s.ods", ods_bytes(ods_rows([cell.replace(
            "<table:table-cell ", '<table:table-cell table:number-columns-spanned="16384" '
            'table:number-rows-spanned="1048576" ')])),
            "one cell spanning the whole sheet"),
        "csv-corner": ("c.csv", b"1\n" + b"\n" * 1048574 + b"," * 16383 + b"2\n",
                       "1 MB of empty lines, then a value in column 16384 of line 1048576"),
    }


def valid_samples(folder: Path) -> dict[str, Path]:
    """One good file per upload kind (and subtitle/audio roles), for the second input of multi-input tools."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "image": folder / "ok.png", "svg": folder / "ok.svg", "pdf": folder / "ok.pdf", "video": folder / "ok.mp4",
        "audio": folder / "ok.wav", "text": folder / "ok.csv", "subtitle": folder / "ok.srt",
        "office": folder / "ok.docx", "zip": folder / "ok.zip",
    }
    out["image"].write_bytes(_image_bytes("png"))
    out["svg"].write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
                          '<rect width="40" height="30" fill="#c33"/></svg>')
    out["pdf"].write_bytes(_pdf_bytes())
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=f=440:d=1",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           str(out["video"]))
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "16000", str(out["audio"]))
    out["text"].write_text("name,qty\napple,3\npear,5\n")
    out["subtitle"].write_text("1\n00:00:00,000 --> 00:00:00,800\nHello\n")
    out["office"].write_bytes(_docx_bytes())
    out["zip"].write_bytes(zip_with([("a.txt", b"hello\n"), ("b/c.txt", b"world\n")]))
    return out


# ---- the corpus -------------------------------------------------------------------------------------------
BILLION_LAUGHS_DTD = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
XXE_DTD = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
REMOTE_DTD = '<!DOCTYPE r SYSTEM "http://169.254.169.254/latest/meta-data/x.dtd">'


def build(folder: Path) -> list[Hostile]:
    folder.mkdir(parents=True, exist_ok=True)
    items: list[Hostile] = []

    def add(fmt: str, what: str, filename: str, data: bytes, kind: str, note: str, expensive: bool = False) -> None:
        path = folder / f"{fmt}-{what}" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        items.append(Hostile(f"{fmt}-{what}", fmt, path, kind, note, expensive))

    def common(fmt: str, ext: str, data: bytes, kind: str, magic: int = 8) -> None:
        add(fmt, "truncated", f"t.{ext}", data[: max(12, len(data) * 2 // 5)], kind, "first 40% of a valid file")
        add(fmt, "wrong-magic", f"m.{ext}", _zero_magic(data, magic), kind, "valid file with its magic zeroed")
        add(fmt, "empty", f"e.{ext}", b"", kind, "0 bytes")

    # -- raster images ---------------------------------------------------------------------------------------
    jpeg = _image_bytes("jpeg")
    common("jpeg", "jpg", jpeg, "image", 4)
    add("jpeg", "garbage", "g.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4000), "image", "JPEG magic, random body")
    sof = jpeg.find(b"\xff\xc0")
    add("jpeg", "bomb", "b.jpg", jpeg[: sof + 5] + struct.pack(">HH", 65500, 65500) + jpeg[sof + 9:], "image",
        "SOF0 declares 65500x65500 (4290 MP) over a 64x48 scan")

    png = _image_bytes("png")
    common("png", "png", png, "image")
    add("png", "bad-crc", "c.png", png[:29] + b"\x00\x00\x00\x00" + png[33:], "image", "IHDR CRC zeroed")
    tiny_idat = zlib.compress(b"\x00" * 64)
    add("png", "bomb-header", "h.png", png_image(100000, 100000, tiny_idat), "image",
        "IHDR declares 100000x100000 (10 GP), 1 tiny IDAT")
    # a real bomb: 25000x25000 1-bit black, 78 MB of scanlines deflated to ~80 kB (625 MP)
    rows = 25000
    row = b"\x00" * (1 + (25000 + 7) // 8)
    c = zlib.compressobj(9)
    idat = c.compress(row * rows) + c.flush()
    add("png", "bomb-real", "r.png", png_image(25000, rows, idat, depth=1), "image",
        "valid 25000x25000 1-bit PNG (625 MP) in ~80 kB")
    ztxt, _, _ = zeros_deflate(200, raw=False)
    add("png", "ztxt-bomb", "z.png", png_image(64, 48, zlib.compress(b"\x00" * (48 * 65)),
                                               extra=png_chunk(b"zTXt", b"Comment\x00\x00" + ztxt)), "image",
        "a zTXt text chunk that inflates to 200 MB")

    gif = _image_bytes("gif")
    common("gif", "gif", gif, "image", 6)
    add("gif", "bomb", "b.gif", gif_frames(65535, 65535, 1), "image", "one frame declaring 65535x65535 (4295 MP)")
    add("gif", "frame-bomb", "f.gif", gif_frames(2000, 2000, 3000), "image",
        "3000 frames of 2000x2000 (12000 MP total) in ~80 kB", expensive=True)

    webp = _image_bytes("webp")
    common("webp", "webp", webp, "image", 4)
    vp8x = b"RIFF" + struct.pack("<I", 4 + 18 + len(webp) - 12) + b"WEBP" + b"VP8X" + struct.pack("<I", 10) \
        + b"\x00\x00\x00\x00" + (0xFFFFFF).to_bytes(3, "little") * 2 + webp[12:]
    add("webp", "bomb", "b.webp", vp8x, "image", "VP8X canvas declares 16777216x16777216")

    tif = _image_bytes("tiff")
    common("tiff", "tiff", tif, "image", 4)
    add("tiff", "bomb", "b.tiff", tiff(1_000_000, 1_000_000), "image", "IFD declares 1000000x1000000 1-bit")
    add("tiff", "ifd-loop", "l.tiff", tiff(32, 32, loop=True), "image", "the IFD's next-IFD offset points at itself")

    heic = _image_bytes("heic")
    common("heic", "heic", heic, "image", 12)
    add("heic", "garbage", "g.heic", heic[:32] + os.urandom(3000), "image", "HEIC ftyp box, random boxes after")

    # -- SVG ---------------------------------------------------------------------------------------------------
    svg_open = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    add("svg", "billion-laughs", "lol.svg",
        f'<?xml version="1.0"?>{BILLION_LAUGHS_DTD}{svg_open}width="10" height="10"><text>&lol9;</text></svg>'
        .encode(), "svg", "entity expansion to 10^9 'lol's")
    add("svg", "xxe", "xxe.svg",
        f'<?xml version="1.0"?>{XXE_DTD}{svg_open}width="10" height="10"><text>&xxe;</text></svg>'.encode(),
        "svg", "external entity file:///etc/passwd")
    add("svg", "script", "s.svg",
        (f'{svg_open}width="20" height="20" onload="alert(1)"><script>alert(document.cookie)</script>'
         '<foreignObject width="20" height="20"><iframe src="http://169.254.169.254/"/></foreignObject>'
         '<rect width="20" height="20" fill="red"/></svg>').encode(), "svg", "script, onload, foreignObject iframe")
    add("svg", "external-refs", "x.svg",
        (f'{svg_open}width="20" height="20"><image xlink:href="file:///etc/passwd" width="20" height="20"/>'
         '<image href="http://169.254.169.254/latest/meta-data/" width="20" height="20"/>'
         '<style>@import url(http://169.254.169.254/a.css); rect {fill: url(file:///etc/shadow)}</style>'
         '<rect width="20" height="20"/></svg>').encode(), "svg", "file:// and metadata-IP hrefs, CSS @import")
    add("svg", "huge", "h.svg", f'{svg_open}width="1000000" height="1000000"><rect width="10" height="10"/></svg>'
        .encode(), "svg", "declares a 1000000x1000000 canvas")
    add("svg", "recursive-use", "u.svg",
        (f'{svg_open}width="20" height="20"><g id="a"><use xlink:href="#b"/></g><g id="b"><use xlink:href="#a"/>'
         '</g><use href="#a"/></svg>').encode(), "svg", "two <use> elements referencing each other")
    add("svg", "deep", "d.svg", (svg_open + 'width="5" height="5">' + "<g>" * 50000 + "</g>" * 50000 + "</svg>")
        .encode(), "svg", "50000 nested groups")
    add("svg", "truncated", "t.svg", f'{svg_open}width="20" height="20"><rect width="2'.encode(), "svg",
        "cut mid-attribute")

    # -- media -------------------------------------------------------------------------------------------------
    tmp = folder / "_media"
    tmp.mkdir(exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(tmp / "v.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1", "-c:v", "libvpx-vp9",
           "-deadline", "realtime", "-c:a", "libopus", "-shortest", str(tmp / "v.webm"))
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-b:a", "64k", str(tmp / "a.mp3"))
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-ar", "8000", "-c:a", "pcm_s16le", str(tmp / "a.wav"))
    mp4 = (tmp / "v.mp4").read_bytes()
    common("mp4", "mp4", mp4, "video")
    # mvhd (v0): size type version+flags ctime mtime timescale duration
    absurd = _patch(mp4, b"mvhd", 4 + 4 + 4 + 4, struct.pack(">II", 1, 0xFFFFFFFF))
    absurd = _patch(absurd, b"mdhd", 4 + 4 + 4 + 4 + 4, struct.pack(">I", 0xFFFFFFFF))
    add("mp4", "absurd-duration", "d.mp4", absurd, "video", "mvhd declares 2^32 s (136 years), mdhd 2^32 ticks")
    moov = mp4.find(b"moov") - 4
    add("mp4", "huge-box", "x.mp4", mp4[:moov] + struct.pack(">I", 1) + b"moov" + struct.pack(">Q", 1 << 62)
        + mp4[moov + 8:], "video", "moov box declares a 2^62-byte 64-bit size")
    webm = (tmp / "v.webm").read_bytes()
    common("webm", "webm", webm, "video", 4)
    dur = webm.find(b"\x44\x89")
    if dur > 0:
        size_byte = webm[dur + 2]
        width = 8 if size_byte == 0x88 else 4
        value = struct.pack(">d", 1e15) if width == 8 else struct.pack(">f", 1e15)
        add("webm", "absurd-duration", "d.webm", webm[: dur + 3] + value + webm[dur + 3 + width:], "video",
            "Segment Info Duration declares 10^15 ms (31700 years)")
    mp3 = (tmp / "a.mp3").read_bytes()
    common("mp3", "mp3", mp3, "audio", 3)
    add("mp3", "id3-huge", "i.mp3", b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + os.urandom(2000), "audio",
        "ID3 tag declares 256 MB, random body")
    for tag in (b"Xing", b"Info"):
        at = mp3.find(tag)
        if at > 0 and struct.unpack(">I", mp3[at + 4: at + 8])[0] & 1:
            add("mp3", "absurd-duration", "d.mp3", mp3[: at + 8] + b"\xff\xff\xff\xff" + mp3[at + 12:], "audio",
                "Xing/Info header declares 2^32 frames (31 years)")
            break
    wav = (tmp / "a.wav").read_bytes()
    common("wav", "wav", wav, "audio", 4)
    data_at = wav.find(b"data")
    add("wav", "absurd-duration", "d.wav", wav[:4] + b"\xff\xff\xff\xff" + wav[8:data_at + 4] + b"\xf0\xff\xff\xff"
        + wav[data_at + 8:], "audio", "RIFF/data sizes declare 4 GB (74 hours at 8 kHz) over 1 s of samples")
    fmt_at = wav.find(b"fmt ")
    add("wav", "zero-rate", "z.wav", wav[: fmt_at + 10] + struct.pack("<HI", 0, 0) + wav[fmt_at + 16:], "audio",
        "fmt chunk declares 0 channels at 0 Hz")

    # -- PDF ---------------------------------------------------------------------------------------------------
    pdf = _pdf_bytes()
    common("pdf", "pdf", pdf, "pdf", 8)

    def raw_pdf(objects: dict[int, bytes], root: int = 1, extra_trailer: bytes = b"") -> bytes:
        out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        offsets = {}
        for num in sorted(objects):
            offsets[num] = len(out)
            out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
        xref = len(out)
        size = max(objects) + 1
        out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
        for num in range(1, size):
            out += (f"{offsets[num]:010d} 00000 n \n" if num in offsets else "0000000000 65535 f \n").encode()
        out += f"trailer\n<< /Size {size} /Root {root} 0 R ".encode() + extra_trailer
        out += f">>\nstartxref\n{xref}\n%%EOF\n".encode()
        return out

    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
    add("pdf", "cyclic-pages", "c.pdf", raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        3: page,
        4: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 2 >>",
    }), "pdf", "the page tree contains itself (Pages -> Pages -> Pages)")
    add("pdf", "self-reference", "s.pdf", raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R /Loop 5 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 3 0 R /MediaBox 6 0 R /Contents 4 0 R /Resources 5 0 R >>",
        4: b"<< /Length 4 0 R >>\nstream\nBT ET\nendstream",
        5: b"<< /Self 5 0 R /XObject 5 0 R /Font 5 0 R >>",
        6: b"6 0 R",
    }), "pdf", "objects that reference themselves (Parent, Length, MediaBox, Resources)")
    add("pdf", "count-lie", "n.pdf", raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>",
        3: page,
    }), "pdf", "the page tree declares 2^31-1 pages over one")
    stream, _, _ = zeros_deflate(300, raw=False)
    add("pdf", "stream-bomb", "b.pdf", raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        4: f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream",
    }), "pdf", "a page content stream that inflates to 300 MB")
    add("pdf", "huge-page", "h.pdf", raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /UserUnit 75000 >>",
    }), "pdf", "a 14400x14400 pt page with UserUnit 75000 (rasterises to gigapixels)")
    many = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Length 5 >>\nstream\nBT ET\nendstream"}
    kids = []
    for i in range(20000):
        many[4 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 3 0 R >>"
        kids.append(f"{4 + i} 0 R")
    many[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count 20000 >>".encode()
    add("pdf", "many-pages", "p.pdf", raw_pdf(many), "pdf", "20000 pages in ~2.4 MB", expensive=True)
    add("pdf", "broken-xref", "x.pdf", pdf.replace(b"startxref", b"startxref\n999999999\n%%EOF\nstartxref"), "pdf",
        "startxref points past the end of the file")

    # -- office ------------------------------------------------------------------------------------------------
    docx = _docx_bytes()
    common("docx", "docx", docx, "office", 4)

    def with_part(base: bytes, part: str, data: bytes, extra: list[tuple[str, bytes]] | None = None) -> bytes:
        src = zipfile.ZipFile(io.BytesIO(base))
        entries = [(i.filename, data if i.filename == part else src.read(i)) for i in src.infolist()]
        return zip_with(entries + (extra or []))

    doc_xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    head, body = doc_xml.split("?>", 1) if doc_xml.startswith("<?xml") else ("", doc_xml)
    add("docx", "billion-laughs", "lol.docx",
        with_part(docx, "word/document.xml", (head + "?>" + BILLION_LAUGHS_DTD
                                              + body.replace("Hostile corpus", "&lol9;")).encode()),
        "office", "word/document.xml with a billion-laughs DTD")
    add("docx", "xxe", "xxe.docx",
        with_part(docx, "word/document.xml", (head + "?>" + XXE_DTD.replace("r [", "w:document [")
                                              + body.replace("Hostile corpus", "&xxe;")).encode()),
        "office", "word/document.xml with an external entity on /etc/passwd")
    entries = [(i.filename, zipfile.ZipFile(io.BytesIO(docx)).read(i)) for i in zipfile.ZipFile(io.BytesIO(docx))
               .infolist()]
    add("docx", "zip-bomb", "z.docx", zip_bomb(1024, "word/media/image1.bin", entries), "office",
        "a valid docx plus a part that inflates to 1 GB")
    xlsx = _xlsx_bytes()
    common("xlsx", "xlsx", xlsx, "office", 4)
    bombs = sheet_bombs()
    for key, (filename, data, note) in bombs.items():
        fmt, what = key.split("-", 1)
        add(fmt, what, filename, data, "text" if fmt == "csv" else "office", note)
    add("xlsx", "billion-laughs", "lol.xlsx", with_part(xlsx, "xl/worksheets/sheet1.xml", (
        f'<?xml version="1.0"?>{BILLION_LAUGHS_DTD.replace("lolz", "worksheet")}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()), "office",
        "sheet1.xml with a billion-laughs DTD")
    ods = ods_bytes(ods_rows([ODS_CELL.format(v=1), ODS_CELL.format(v=2)], [ODS_CELL.format(v=3)]))
    common("ods", "ods", ods, "office", 4)
    add("ods", "billion-laughs", "lol.ods", ods_bytes(
        ods_rows(["<table:table-cell><text:p>&lol9;</text:p></table:table-cell>"]),
        head='<?xml version="1.0"?>' + BILLION_LAUGHS_DTD.replace("lolz", "office:document-content")), "office",
        "content.xml with a billion-laughs DTD")
    add("ods", "xxe", "xxe.ods", ods_bytes(
        ods_rows(["<table:table-cell><text:p>&xxe;</text:p></table:table-cell>"]),
        head='<?xml version="1.0"?>' + XXE_DTD.replace("r [", "office:document-content [")), "office",
        "content.xml with an external entity on /etc/passwd")

    # -- text data ---------------------------------------------------------------------------------------------
    add("csv", "empty", "e.csv", b"", "text", "0 bytes")
    add("csv", "binary", "b.csv", os.urandom(4096), "text", "random bytes named .csv")
    add("csv", "huge-field", "f.csv", b"a,b\n" + b"x" * (20 << 20) + b",1\n", "text", "one 20 MB field")
    add("csv", "open-quote", "q.csv", b'a,b\n"' + b"never closed," * 400000 + b"\n", "text",
        "a quote that never closes (5 MB)")
    add("csv", "wide", "w.csv", b",".join(b"c%d" % i for i in range(200000)) + b"\n" + b"1," * 199999 + b"1\n",
        "text", "200000 columns")
    add("csv", "nul", "n.csv", b"a,b\n1,\x002\n" * 100, "text", "NUL bytes inside fields")

    add("json", "empty", "e.json", b"", "text", "0 bytes")
    add("json", "truncated", "t.json", b'{"a": [1, 2, {"b": "c', "text", "cut mid-string")
    add("json", "deep", "d.json", b"[" * 100000 + b"]" * 100000, "text", "100000 nested arrays")
    add("json", "big-number", "n.json", b'[{"n": ' + b"9" * 100000 + b', "f": 1e999999}]', "text",
        "a 100000-digit integer and a float overflowing to inf")
    add("json", "bad-utf8", "u.json", b'[{"a": "\xff\xfe\xc3("}]', "text", "invalid UTF-8 inside a string")

    add("xml", "billion-laughs", "lol.xml", f'<?xml version="1.0"?>{BILLION_LAUGHS_DTD}<lolz>&lol9;</lolz>'.encode(),
        "text", "entity expansion to 10^9 'lol's")
    add("xml", "xxe", "xxe.xml", f'<?xml version="1.0"?>{XXE_DTD}<r><a>&xxe;</a></r>'.encode(), "text",
        "external entity file:///etc/passwd")
    add("xml", "remote-dtd", "dtd.xml", f'<?xml version="1.0"?>{REMOTE_DTD}<r><a>1</a></r>'.encode(), "text",
        "external DTD on the cloud metadata address")
    quad = "q" * 50000
    add("xml", "quadratic", "q.xml", (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY q "{quad}">]><r><a>'
                                      + "&q;" * 20000 + "</a></r>").encode(), "text",
        "one 50 kB entity referenced 20000 times (1 GB)")
    add("xml", "deep", "d.xml", b'<?xml version="1.0"?>' + b"<a>" * 100000 + b"</a>" * 100000, "text",
        "100000 nested elements")
    add("xml", "truncated", "t.xml", b'<?xml version="1.0"?><r><row><a>1</a><b>', "text", "cut mid-element")

    add("yaml", "billion-laughs", "lol.yaml",
        (b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
         + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode()
                    for i in range(9))), "text", "aliases expanding to 9^10 strings")
    add("yaml", "python-tag", "p.yaml",
        f'x: !!python/object/apply:os.system ["touch {CANARY}"]\ny: !!python/name:os.system\n'.encode(),
        "text", "python object tags that would run a command")
    add("yaml", "deep", "d.yaml", b"a: " + b"[" * 50000 + b"]" * 50000 + b"\n", "text", "50000 nested flow lists")
    add("yaml", "truncated", "t.yaml", b'a: "unterminated\nb: [1, 2\n', "text", "unterminated string and list")

    # -- ZIP ---------------------------------------------------------------------------------------------------
    good_zip = zip_with([("a.txt", b"hello\n" * 100), ("b.txt", b"world\n" * 100)])
    common("zip", "zip", good_zip, "zip", 4)
    add("zip", "bomb", "b.zip", zip_bomb(1024), "zip", "one entry that inflates to 1 GB (ratio 1000:1)")
    add("zip", "many-entries", "m.zip", zip_with([(f"d/{i}.txt", b"") for i in range(30000)],
                                                 compression=zipfile.ZIP_STORED), "zip", "30000 empty entries")
    add("zip", "traversal", "p.zip", zip_with([("../../../../tmp/lutra-zip-escape", b"escaped"),
                                               ("/tmp/lutra-zip-abs", b"abs"), ("ok.txt", b"ok")]),
        "zip", "entries named ../../../../tmp/x and /tmp/x")
    link = zipfile.ZipInfo("passwd-link")
    link.external_attr = (0o120777 << 16)
    link.create_system = 3
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(link, "/etc/passwd")
        zf.writestr("ok.txt", "ok")
    add("zip", "symlink", "s.zip", buf.getvalue(), "zip", "a symlink entry pointing at /etc/passwd")
    inner = zip_bomb(256)
    add("zip", "nested", "n.zip", zip_with([(f"inner{i}.zip", inner) for i in range(8)], compression=zipfile.ZIP_STORED),
        "zip", "8 inner 256 MB bombs (2 GB two levels down)")
    lying = bytearray(zip_with([("big.txt", b"A" * (4 << 20))]))
    lying[22:26] = struct.pack("<I", 10)  # local header: uncompressed size 10
    cd = bytes(lying).find(b"PK\x01\x02")
    lying[cd + 24: cd + 28] = struct.pack("<I", 10)  # central directory: the same lie
    add("zip", "size-lie", "l.zip", bytes(lying), "zip", "headers declare 10 bytes for a 4 MB entry")
    return items


def formats(items: list[Hostile]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(item.format, []).append(item.id.split("-", 1)[1])
    return out
