# The README's two commands are `make book` and `make test`. Each installs what
# it needs: Debian packages (scripts/install-system-packages.sh), a .venv with the
# package and its extras pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILD  := _build
SPHINXOPTS ?= -W --keep-going -j 1

.PHONY: help setup book html pdf test lab clean lock bench

help:
	@echo "make book   render the book to $(BUILD)/html and $(BUILD)/latex/hotlines.pdf"
	@echo "make test   run the whole test suite (includes building the book)"
	@echo "make lab    open the chapters as notebooks in JupyterLab"
	@echo "make bench  run the benchmark scripts"
	@echo "make clean  remove build outputs (keeps .venv)"

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (hotlines)" >/dev/null
	touch $(STAMP)

book: html pdf

html: setup
	$(BIN)/sphinx-build $(SPHINXOPTS) -b html chapters $(BUILD)/html
	@echo "HTML: $(BUILD)/html/index.html"

pdf: setup
	$(BIN)/sphinx-build -M latexpdf chapters $(BUILD) $(SPHINXOPTS) -q
	@echo "PDF: $(BUILD)/latex/hotlines.pdf"

test: setup
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab]"
	$(BIN)/jupyter lab --notebook-dir=chapters

bench: setup
	$(BIN)/python benchmarks/build_speed.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^hotlines' > constraints.txt

clean:
	rm -rf $(BUILD) figures/*.png figures/*.svg
