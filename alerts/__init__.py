"""Keyword alerts: rules → matches → deliveries. Start with `alerts.runner.run_once`."""
