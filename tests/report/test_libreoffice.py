"""The CSVs opened by LibreOffice Calc (headless): capture strings are never evaluated."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inspector.report.csvout import REPORT_COLUMNS, WRAP_WIDTH
from tests.report.hostile import FORMULA, SCRIPT

SOFFICE = next((p for p in (shutil.which(n) for n in ("soffice", "libreoffice")) if p), None)
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")

NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
FORMULA_ATTR = f"{{{NS['table']}}}formula"
#: CSV import: comma, double quote, UTF-8 (76), from line 1, ..., token 13 "evaluate formulas"
#: ON: the worst case, a user who ticked it.
EVALUATE = "CSV:44,34,76,1,,1033,false,false,false,false,false,-1,true"
Cells = list[tuple[str | None, str]]


def convert(paths: list[Path], outdir: Path, infilter: str | None) -> dict[str, Cells]:
    """Open each CSV in LibreOffice (one process) and read back every cell of the .fods."""
    assert SOFFICE is not None
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "profile"
    args = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    if infilter:
        args.append(f"--infilter={infilter}")
    args += ["--convert-to", "fods", "--outdir", str(outdir), *map(str, paths)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    out: dict[str, Cells] = {}
    for path in paths:
        fods = outdir / (path.stem + ".fods")
        assert fods.is_file(), proc.stdout + proc.stderr
        root = ET.parse(fods).getroot()
        got = []
        for cell in root.iter(f"{{{NS['table']}}}table-cell"):
            text = "\n".join("".join(p.itertext()) for p in cell.iter(f"{{{NS['text']}}}p"))
            got.append((cell.get(FORMULA_ATTR), text))
        out[path.name] = got
    return out


@pytest.fixture(scope="module")
def csvs(hostile_out: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("lo-in")
    paths = []
    for path in sorted(hostile_out.glob("*.csv")):
        shutil.copy(path, folder / path.name)
        paths.append(folder / path.name)
    return paths


@pytest.fixture(scope="module")
def sample_out_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.csv of the bundled sample (long explanations)."""
    from inspector.cli import main

    out = tmp_path_factory.mktemp("lo-sample")
    sample = Path(__file__).resolve().parents[2] / "captures" / "zoom-2020.pcap"
    assert main(["analyze", str(sample), "-o", str(out / "o"), "-q"]) == 0
    target = tmp_path_factory.mktemp("lo-sample-in") / "report.csv"
    shutil.copy(out / "o" / "report.csv", target)
    return target


@pytest.fixture(scope="module")
def evaluated(csvs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Cells]:
    return convert(csvs, tmp_path_factory.mktemp("lo-eval"), EVALUATE)


def test_control_a_raw_formula_is_evaluated(tmp_path: Path) -> None:
    """The test can see evaluation: an unprotected cell does become a formula."""
    raw = tmp_path / "raw.csv"
    raw.write_text('a\r\n"' + FORMULA.replace('"', '""') + '"\r\n', encoding="utf-8")
    got = convert([raw], tmp_path / "out", EVALUATE)["raw.csv"]
    assert any(formula for formula, _text in got)


def test_no_cell_evaluated(evaluated: dict[str, Cells]) -> None:
    assert "report.csv" in evaluated and "flows.csv" in evaluated
    for name, got in evaluated.items():
        assert not [c for c in got if c[0]], f"{name}: a capture string became a formula"


@pytest.mark.parametrize("name", ["flows.csv", "tls.csv", "http.csv"])
def test_names_shown_whole(name: str, evaluated: dict[str, Cells]) -> None:
    texts = [t for _f, t in evaluated[name]]
    assert "'" + FORMULA in texts  # shown as text, whole, after the apostrophe
    assert SCRIPT in texts
    assert "Ünïcødé-名前" in texts  # UTF-8 read as UTF-8


@pytest.fixture(scope="module")
def double_clicked(csvs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Cells:
    """report.csv as a double-click opens it: LibreOffice's DEFAULT CSV import, no options."""
    report = [p for p in csvs if p.name == "report.csv"]
    return convert(report, tmp_path_factory.mktemp("lo-click"), None)["report.csv"]


def test_report_csv_default_import(double_clicked: Cells) -> None:
    """The exact header names (no byte-order mark glued to the first), no formula cell, the
    capture's strings shown as text (Latin-1 letters exact, others as visible escapes)."""
    texts = [t for _f, t in double_clicked]
    names = [name for name, _doc, _fn in REPORT_COLUMNS]
    assert texts[: len(names)] == names
    assert not [c for c in double_clicked if c[0]], "a cell became a formula"
    assert SCRIPT in texts and "\\x1b[31mred" in texts
    assert "Ünïcødé-\\u540d\\u524d" in texts  # no mojibake: Ã or ï»¿ would show here
    assert not any("Ã" in t or "ï»¿" in t for t in texts)
    assert any(t.startswith("'=HYPERLINK(") for t in texts)


def test_report_csv_long_texts_are_multiline(
    sample_out_csv: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A long explanation arrives as a cell of several lines (shown wrapped), words whole."""
    got = convert([sample_out_csv], tmp_path_factory.mktemp("lo-wrap"), None)["report.csv"]
    texts = [t for _f, t in got]
    width = len(REPORT_COLUMNS)
    explanations = texts[width:][[n for n, _d, _f in REPORT_COLUMNS].index("Explanation") :: width]
    multi = [t for t in explanations if "\n" in t]
    assert multi, explanations
    assert all(len(line) <= WRAP_WIDTH for t in multi for line in t.split("\n") if " " in line)


def test_default_import_evaluates_nothing(
    csvs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """LibreOffice's own default CSV import (which evaluates formulas too) on every CSV."""
    for name, got in convert(csvs, tmp_path_factory.mktemp("lo-default"), None).items():
        assert not [c for c in got if c[0]], f"{name}: a capture string became a formula"
