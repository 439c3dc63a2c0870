"""`python -m ad_duckdb ...` runs the `ad-duckdb` command (for environments whose scripts folder is not on PATH)."""
from .cli import main

main()
