"""Document tools: PDF structure (pikepdf/qpdf), rendering (ghostscript), office (warm LibreOffice),
web and e-books (WeasyPrint, pandoc)."""
