"""ncp_control.cli: the ``ncp-control`` command line, thin programs over ncp_control, envs and agents."""

if __name__ != "ncp_control.cli":  # the folder is installed as ncp_control.cli; a second name would load it twice
    raise ImportError(f"import this package as ncp_control.cli, not as {__name__}")

