"""upper(text) as PostgreSQL 15's: ``ß`` stays ``ß``.

PostgreSQL upper-cases text by its locale's C library (towupper, one character for one; the C locale only ASCII),
which has no single-character capital of ``ß``: ``upper('straße')`` is 'STRAßE'. DuckDB's upper wrote U+1E9E,
'STRAẞE', which no PostgreSQL gives (ICU and PostgreSQL 18's PG_UNICODE_FAST write 'STRASSE'), so a join or a
GROUP BY on upper(name) split what PostgreSQL keeps together. Every other character DuckDB upper- and lower-cases as
glibc's C.UTF-8 does (checked over every code point below U+30000); lower() stays DuckDB's.
"""

from __future__ import annotations

UPPER_MACRO = "pg_upper"
UPPER_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {UPPER_MACRO}(pg_text_arg) AS "
    "array_to_string([upper(pg_part) FOR pg_part IN string_split(pg_text_arg::VARCHAR, 'ß')], 'ß')",
)
