"""``python -m ncp_control.cli``: the ``ncp-control`` command line."""

import sys

from ncp_control.cli.cli import main

sys.exit(main())
