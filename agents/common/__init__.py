"""Shared plumbing of the agents: making environments, running evaluation episodes, files."""
