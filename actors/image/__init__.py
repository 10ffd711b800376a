"""Image tools: one module per tool, run in worker processes by the ImageActor."""
