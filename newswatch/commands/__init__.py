"""One module per group of commands; newswatch.cli registers them all in one place."""
