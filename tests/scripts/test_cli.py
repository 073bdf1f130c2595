import subprocess
import sys

from ncp_control.cli.cli import main

from ncp_control import __version__


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "ncp_control.cli", "--help"], capture_output=True, text=True, check=True)
    assert "version" in out.stdout
