"""The ``demo`` subcommand builds and runs an NCP-wired CfC."""

from scripts.cli import main


def test_demo_prints_wiring_and_shapes(capsys) -> None:
    assert (
        main(["demo", "--units", "12", "--outputs", "2", "--inputs", "3", "--steps", "5", "--batch", "2"])
        == 0
    )
    out = capsys.readouterr().out
    assert "AutoNCP(units=12, output_size=2" in out
    assert "output (2, 5, 2), final state (2, 12)" in out


def test_demo_bad_size_is_one_line_error(capsys) -> None:
    assert main(["demo", "--units", "12", "--outputs", "11"]) == 2
    assert "output_size must be" in capsys.readouterr().err
