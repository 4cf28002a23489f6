"""Results as data: tables of rows, written to the terminal, JSON and CSV."""
