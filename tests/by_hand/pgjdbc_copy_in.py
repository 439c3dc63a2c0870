"""PgJDBC's CopyManager.copyIn against `ad-duckdb serve`, run by hand (not in `make test`: it needs a JDK and
the PgJDBC jar, which the project does not install). Metabase's CSV upload loads rows this way.

Usage: python tests/by_hand/pgjdbc_copy_in.py PATH/TO/postgresql-42.7.13.jar
Prints the driver's row counts and the SQLSTATE of a bad value, then the rows loaded; exit 0 when they are
the expected ones (2, 1 rolled back, 22P02; rows 1 and 2).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

JAVA = """
import java.io.StringReader;
import java.sql.*;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

public class CopyIn {
    public static void main(String[] a) throws Exception {
        try (Connection c = DriverManager.getConnection(a[0], "analyst", "")) {
            CopyManager m = c.unwrap(PGConnection.class).getCopyAPI();
            System.out.println(m.copyIn("COPY items (id, name, day) FROM STDIN WITH (FORMAT csv, HEADER true)",
                new StringReader("id,name,day\\n1,metabase,2026-01-11\\n2,\\"upload, csv\\",\\n")));
            c.setAutoCommit(false);
            System.out.println(m.copyIn("COPY items (id) FROM STDIN", new StringReader("3\\n")));
            c.rollback();
            try {
                m.copyIn("COPY items (id) FROM STDIN CSV", new StringReader("4\\nfour\\n"));
            } catch (SQLException e) {
                System.out.println(e.getSQLState());
            }
            c.rollback();
        }
    }
}
"""


def main(jar: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "w.duckdb")
        con = duckdb.connect(db)
        con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, day DATE)")
        con.close()
        (Path(tmp) / "CopyIn.java").write_text(JAVA)
        subprocess.run(["javac", "-cp", str(jar), "CopyIn.java"], cwd=tmp, check=True, timeout=120)
        proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "serve", db, "--port", "0", "--read-write"],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            host, port = proc.stdout.readline().rsplit(" on ", 1)[1].strip().rsplit(":", 1)
            r = subprocess.run(["java", "-cp", f"{jar}:.", "CopyIn", f"jdbc:postgresql://{host}:{port}/w"],
                               cwd=tmp, capture_output=True, text=True, timeout=120)
            print(r.stdout + r.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        got = duckdb.connect(db, read_only=True).execute("SELECT id, name, day::VARCHAR FROM items ORDER BY id").fetchall()
        print(got)
        ok = r.stdout.split() == ["2", "1", "22P02"] and got == [(1, "metabase", "2026-01-11"), (2, "upload, csv", None)]
        print("ok" if ok else "UNEXPECTED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
