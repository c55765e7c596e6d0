"""Help text: the outputs listed come from the schema table; live takes analyze's options."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from inspector.cli import _parser, outputs_help
from inspector.schema import load_all

ROOT = Path(__file__).resolve().parents[1]


def _help(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        _parser().parse_args([*argv, "--help"])
    return capsys.readouterr().out


def test_analyze_help_lists_every_table(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("analyze", capsys=capsys)
    for name in load_all():
        assert f"  {name}.csv " in text, name
    assert outputs_help() in text
    for line in outputs_help().splitlines():
        assert len(line) <= 88
    assert "sample.pcapng" not in text


def test_analyze_help_example_exists(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("analyze", capsys=capsys)
    example = next(line for line in text.splitlines() if "inspector analyze captures/" in line)
    assert (ROOT / example.split()[2]).is_file()


def test_live_takes_analyze_options(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("live", capsys=capsys)
    for option in ("--lists", "--keylog", "--pseudonymize", "--client"):
        assert option in text
    args = _parser().parse_args(
        ["live", "-i", "lo", "-o", "x", "--lists", "a.json", "--keylog", "k", "--pseudonymize"]
    )
    assert isinstance(args, argparse.Namespace)
    assert args.lists == ["a.json"] and args.keylog == ["k"] and args.pseudonymize


def test_live_dissectors_decrypt_with_keys() -> None:
    from inspector.batch_shard import live_dissectors
    from inspector.config import Config

    names = [name for name, _fn in live_dissectors(Config())[0]]
    assert "tls_decrypt" in names
