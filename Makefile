# The README's commands. Both bootstrap everything they need (see bin/bootstrap).
.PHONY: run test lint format bench bench-pages bench-directory bench-reminders

run:
	@bash bin/bootstrap run

test:
	@bash bin/bootstrap test $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench:
	@bash bin/bootstrap bench

bench-pages:
	@bash bin/bootstrap bench-pages

bench-directory:
	@bash bin/bootstrap bench-directory

bench-reminders:
	@bash bin/bootstrap bench-reminders
