"""scripts: the ``ncp-control`` command line, thin programs over ncp_control, envs and agents."""
