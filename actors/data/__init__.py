"""Data-file tools (CSV, XLSX, JSON, XML, YAML, ZIP, charts) owned by the DataActor."""
