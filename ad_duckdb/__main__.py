"""`python -m ad_duckdb ...` runs the `ad-duckdb` command (for environments whose scripts folder is not on PATH)."""
import sys

try:
    from .launch import main
except KeyboardInterrupt:  # in the import of launch itself (its guard is in main): launch's line and exit 130
    if sys.stderr is not None:
        sys.stderr.write("Error: interrupted (Ctrl-C) while the command was starting; it did nothing.\n")
    raise SystemExit(130) from None

# Why the guard: tools that import every module of a package (pydoc, documentation generators) would run the command
if __name__ == "__main__":
    main()
