"""What several tool families share, named for what it is: image I/O, SVG sanitising, PDF files.

A module here is public (no leading underscore): a family's `_name` modules are private to that family."""
