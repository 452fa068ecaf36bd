"""The newswatch application: settings, command line, scheduling and review."""
