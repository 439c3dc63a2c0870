"""`python -m ad_duckdb ...` runs the `ad-duckdb` command (for environments whose scripts folder is not on PATH)."""
from .launch import main

# Why the guard: tools that import every module of a package (pydoc, documentation generators) would run the command
if __name__ == "__main__":
    main()
