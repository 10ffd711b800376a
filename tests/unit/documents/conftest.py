from __future__ import annotations

import pytest

from tests.unit.documents.docpdfs import numbered_pdf


@pytest.fixture(scope="session")
def docs(tmp_path_factory):
    """Generated inputs shared by the document tests."""
    folder = tmp_path_factory.mktemp("docs")
    numbered_pdf(folder / "ten.pdf", 10)
    numbered_pdf(folder / "three.pdf", 3)
    (folder / "not-a-pdf.pdf").write_bytes(b"hello, I am text pretending to be a PDF\n" * 20)
    good = (folder / "three.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(good[: len(good) // 3])
    return folder
