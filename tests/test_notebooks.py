"""The chapters as notebooks: downloadable from the HTML, opened by JupyterLab, launchable on Binder."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from .book import CHAPTERS, REPO, chapter_docs

NOTEBOOK_CHAPTERS = [doc for doc in chapter_docs() if "```{code-cell}" in (CHAPTERS / f"{doc}.md").read_text(encoding="utf-8")]


def test_every_chapter_with_code_is_offered_as_an_executed_ipynb(html_build):
    assert len(NOTEBOOK_CHAPTERS) >= 10
    for doc in NOTEBOOK_CHAPTERS:
        path = html_build / "_sources" / f"{doc}.ipynb"
        assert path.is_file(), f"{doc}: no .ipynb next to the page's sources"
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code and any(cell.outputs for cell in code), f"{doc}.ipynb carries no outputs"
        page = (html_build / f"{doc}.html").read_text(encoding="utf-8")
        assert f"_sources/{doc}.ipynb" in page, f"{doc}.html has no download link to its notebook"


def test_a_downloaded_notebook_runs_away_from_the_repository(html_build, tmp_path):
    notebook = nbformat.read(html_build / "_sources" / "01-introduction.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert outputs and not [out for out in outputs if out.output_type == "error"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """JupyterLab as `make lab` starts it, on 127.0.0.1 with a token."""
    port, token = _free_port(), "hotlines-test"
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={CHAPTERS}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"token {token}"}, timeout=30)
    deadline = time.monotonic() + 90
    while True:
        try:
            if client.get("/api/status").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("JupyterLab did not start within 90 s")
        time.sleep(0.5)
    yield client
    process.terminate()
    process.wait(timeout=30)


def test_jupyterlab_reads_each_chapter_as_a_notebook(lab):
    for doc in NOTEBOOK_CHAPTERS:
        response = lab.get(f"/api/contents/{doc}.md", params={"content": 1})
        assert response.status_code == 200, f"{doc}: {response.status_code}"
        model = response.json()
        assert model["type"] == "notebook", f"{doc}.md is not opened as a notebook (jupytext missing?)"
        notebook = nbformat.from_dict(model["content"])
        nbformat.validate(notebook)
        assert any(cell.cell_type == "code" for cell in notebook.cells)


def test_jupyterlab_opens_markdown_chapters_with_the_notebook_viewer(lab):
    schema = lab.get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin").json()["schema"]
    viewers = schema["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook" and viewers.get("myst") == "Jupytext Notebook"


def test_binder_environment_installs_the_package_with_extras_that_exist():
    lines = [line.split("#")[0].strip() for line in (REPO / "binder" / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert "-c ../constraints.txt" in lines and (REPO / "constraints.txt").is_file()
    editable = next(line for line in lines if line.startswith("-e ."))
    extras = set(re.search(r"\[(.*)\]", editable).group(1).split(","))
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras <= set(declared) and {"book", "lab"} <= extras
    pinned = {line.split("==")[0].lower() for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line}
    assert {"jupyterlab", "jupytext"} <= pinned
    assert json.loads((REPO / "binder" / "overrides.json").read_text()) == json.loads(
        (Path(sys.prefix) / "share/jupyter/lab/settings/overrides.json").read_text())
