.PHONY: demo test lint bench

demo:  ## set up and serve the demo on http://127.0.0.1:8000
	scripts/demo.sh

test:  ## the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	scripts/test.sh

lint:
	scripts/bootstrap.sh requirements-dev.txt
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
