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
	.venv/bin/python -m load.soak --sweep 1,2,4,8,16 --minutes 0 --out load/results/sweep
reliability: setup
	LUTRA_LOAD_OUT=load/results/reliability .venv/bin/python -m pytest -m slow tests
