.PHONY: setup serve test lint bench reliability
setup:
	./run setup
serve:
	./run serve
test:
	./run test
lint:
	.venv/bin/ruff check .
bench: setup
	.venv/bin/python -m load.bench --scenario all
reliability: setup
	.venv/bin/python -m pytest -m slow tests
