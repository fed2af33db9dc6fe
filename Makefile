# The README's two commands are `make book` and `make test`. Each installs what
# it needs: Debian packages (scripts/install-system-packages.sh), a .venv with the
# package and its extras pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILD  := _build
SPHINXOPTS ?= -W --keep-going -j 1

.PHONY: help setup book html pdf slides test lab clean lock bench

help:
	@echo "make book   render the book to $(BUILD)/html and $(BUILD)/latex/hotlines.pdf, slides to $(BUILD)/slides"
	@echo "make slides render the reveal.js decks (one per part of the book) to $(BUILD)/slides"
	@echo "make test   run the whole test suite (includes building the book)"
	@echo "make lab    open the chapters as notebooks in JupyterLab"
	@echo "make bench  run the benchmark scripts"
	@echo "make clean  remove build outputs (keeps .venv)"

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt scripts/install-system-packages.sh binder/overrides.json
	bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,lab]"
	# JupyterLab opens the MyST chapters as notebooks (the same setting Binder gets from binder/postBuild)
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (hotlines)" >/dev/null
	touch $(STAMP)

book: html pdf slides

html: setup
	$(BIN)/sphinx-build $(SPHINXOPTS) -b html chapters $(BUILD)/html
	@echo "HTML: $(BUILD)/html/index.html"

pdf: setup
	$(BIN)/sphinx-build -M latexpdf chapters $(BUILD) $(SPHINXOPTS) -q
	@echo "PDF: $(BUILD)/latex/hotlines.pdf"

slides: setup
	$(BIN)/sphinx-build $(SPHINXOPTS) -b revealjs slides $(BUILD)/slides
	@echo "Slides: $(BUILD)/slides/index.html"

test: setup
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab --notebook-dir=chapters

bench: setup
	$(BIN)/python benchmarks/build_speed.py --pdf
	$(BIN)/python benchmarks/requests_scale.py
	$(BIN)/python benchmarks/simulation_speed.py
	$(BIN)/python benchmarks/index_uncertainty.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^hotlines' > constraints.txt

clean:
	rm -rf $(BUILD) figures/*.png figures/*.svg
