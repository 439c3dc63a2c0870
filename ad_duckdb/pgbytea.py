"""PostgreSQL's two-argument encode(bytea, format) and decode(text, format), as the session's macros (BYTEA_SQL, part
of pgfunctions' FUNCTION_SQL, which renames the calls): DuckDB's encode / decode take one argument (text to its UTF-8
bytes and back). The formats are PostgreSQL's hex, base64 and escape, as its encode.c writes and reads them:

- base64 in lines of 76 characters; decode skips whitespace (hex and base64);
- escape writes a zero byte or one with the high bit set as a backslash and three octal digits, a backslash as two,
  any other byte as itself; decode reads ``\\\\`` and ``\\ooo`` (first digit 0-3) and fails on any other backslash,
  as PostgreSQL ('invalid input syntax for type bytea'). Bytes are read as hex pairs (DuckDB cannot index a BLOB).

The bodies are DuckDB's own functions, so what the file stores inlines them (pgstoredinline)."""

from __future__ import annotations

ENCODE_MACRO = "pg_encode"
DECODE_MACRO = "pg_decode"
# each argument once, whatever its text: pg_x.b the bytes (pg_x.t the text) and pg_x.f the format, lower case (what
# the file stores writes the argument's text once, not once per use)
_BASE64_LINES = ("array_to_string([substr(to_base64(pg_x.b), pg_i * 76 + 1, 76) "
                 "for pg_i in range(0, (length(to_base64(pg_x.b)) + 75) // 76)], chr(10))")  # (// whatever the session's integer_division)
_NO_SPACE = r"regexp_replace(pg_x.t, '\s+', '', 'g')"  # (PostgreSQL's decode skips whitespace)
_BYTES = "[('0x' || substr(hex(pg_x.b), pg_i * 2 + 1, 2))::INTEGER for pg_i in range(0, octet_length(pg_x.b))]"
_ESCAPED = ("array_to_string([CASE WHEN pg_b = 0 OR pg_b >= 128 THEN '\\' || format('{:03o}', pg_b) "
            f"WHEN pg_b = 92 THEN '\\\\' ELSE chr(pg_b) END for pg_b in {_BYTES}], '')")
# a backslash left once each \\ and \ooo is taken out is one PostgreSQL cannot read
_BAD_ESCAPE = r"contains(regexp_replace(pg_x.t, '\\([0-3][0-7][0-7]|\\)', '', 'g'), '\')"
_OCTAL = "(ascii(pg_t[2]) - 48) * 64 + (ascii(pg_t[3]) - 48) * 8 + ascii(pg_t[4]) - 48"
_UNESCAPED = (r"unhex(array_to_string([CASE WHEN pg_t = '\\' THEN '5c' "
              f"WHEN pg_t[1] = '\\' THEN format('{{:02x}}', {_OCTAL}) ELSE hex(encode(pg_t)) END "
              r"for pg_t in regexp_extract_all(pg_x.t, '\\[0-3][0-7][0-7]|\\\\|[^\\]+')], ''))")
_UNRECOGNIZED = "error('unrecognized encoding: \"' || pg_format_arg || '\"')"
BYTEA_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {ENCODE_MACRO}(pg_bytes_arg, pg_format_arg) AS [CASE "
    "WHEN pg_x.b IS NULL OR pg_x.f IS NULL THEN NULL "
    "WHEN pg_x.f = 'hex' THEN lower(hex(pg_x.b)) "
    f"WHEN pg_x.f = 'base64' THEN {_BASE64_LINES} "
    f"WHEN pg_x.f = 'escape' THEN {_ESCAPED} "
    f"ELSE {_UNRECOGNIZED} END for pg_x in [struct_pack(b := pg_bytes_arg::BLOB, f := lower(pg_format_arg))]][1]",
    f"CREATE OR REPLACE TEMP MACRO {DECODE_MACRO}(pg_text_arg, pg_format_arg) AS [CASE "
    "WHEN pg_x.t IS NULL OR pg_x.f IS NULL THEN NULL "
    f"WHEN pg_x.f = 'hex' THEN CASE WHEN length({_NO_SPACE}) % 2 = 1 "
    "THEN error('invalid hexadecimal data: odd number of digits') "
    f"ELSE unhex({_NO_SPACE}) END "
    f"WHEN pg_x.f = 'base64' THEN from_base64({_NO_SPACE}) "
    f"WHEN pg_x.f = 'escape' THEN CASE WHEN {_BAD_ESCAPE} "
    f"THEN error('invalid input syntax for type bytea') ELSE {_UNESCAPED} END "
    f"ELSE {_UNRECOGNIZED} END for pg_x in [struct_pack(t := pg_text_arg::VARCHAR, f := lower(pg_format_arg))]][1]",
)
