"""A demo material with attachments a browser can show (a picture, a sound, a PDF), made here
from a few bytes of code so the demo set ships no binary files. It goes through the same
services as the API: created as a draft, files attached, then reviewed and published."""

import io
import math
import struct
import wave
import zlib

from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.config import Settings
from app.materials import attachments
from app.materials import service as materials_service
from app.materials.schemas import MaterialCreate

TITLE = "[Demo] Ảnh và âm thanh: Ngày hội văn hóa các dân tộc vùng biên"
BODY = """Ngày hội có **múa khèn** của đồng bào Mông, hát then của đồng bào Tày và thi dệt thổ cẩm.

- Ảnh minh họa (lá cờ sặc sỡ) hiện ngay trong trang.
- Bản tin âm thanh nghe được ngay trong trình duyệt.
- Tài liệu PDF mở bằng trình xem của máy.

*Nội dung minh họa của ttdn-hub, không phải tài liệu chính thức.*"""


def png(width: int = 480, height: int = 270) -> bytes:
    """Horizontal bands in the colours of a brocade, as an RGB PNG."""
    bands = [(165, 14, 14), (240, 180, 0), (11, 79, 156), (27, 110, 45), (240, 240, 235)]
    rows = b"".join(b"\x00" + bytes(bands[(y * len(bands)) // height]) * width for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def wav(seconds: float = 1.5, rate: int = 8000) -> bytes:
    """A soft 440 Hz tone, 8-bit mono."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(rate)
        frames = bytes(128 + int(40 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        sound.writeframes(frames)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF saying what it is (ASCII: the built-in fonts have no Vietnamese letters)."""
    text = b"BT /F1 18 Tf 72 720 Td (ttdn-hub demo document - not an official text) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def add_media_material(session: Session, settings: Settings, author: Principal, reviewer: Principal) -> None:
    """The demo material with a picture, a sound and a PDF, published (reviewer: not the author)."""
    data = MaterialCreate(
        title=TITLE,
        summary="Ảnh, bản tin âm thanh và tài liệu PDF minh họa, xem được ngay trong trình duyệt.",
        body=BODY,
        kind="image",
        language="vi",
        ethnic_groups=["Mông", "Tày"],
        border_routes=["VN-CN"],
        provinces=["Lào Cai"],
        topics=["culture-heritage"],
        source="Dữ liệu minh họa của ttdn-hub (không phải tài liệu chính thức)",
    )
    tags = materials_service.resolve_tags(session, {f: getattr(data, f) for f in materials_service.TAG_FIELDS})
    material = materials_service.build_material(data, tags, None, status="draft", is_demo=True)
    session.add(material)
    materials_service.record_version(session, material, None, "demo", before={})
    session.flush()
    files = [("ngay-hoi.png", png(), "image/png"), ("ban-tin.wav", wav(), None), ("to-roi.pdf", pdf(), None)]
    for filename, content, media_type in files:
        attachments.add_attachment(session, settings, material.id, io.BytesIO(content), filename, media_type, author)
    for to in ("in_review", "approved", "published"):
        materials_service.transition(session, material.id, to, reviewer)
