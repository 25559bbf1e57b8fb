"""python-mysql-replication reading the benchmark segment: every value of every row is
decoded and touched. Prints the number of row changes read.

Usage: pyrepl.py HOST PORT USER PASSWORD SERVER_ID FIRST_FILE DATABASE MAX_ROWS
"""

import sys

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import UpdateRowsEvent, WriteRowsEvent


def main() -> None:
    host, port, user, password, server_id, first_file, database, max_rows = sys.argv[1:9]
    max_rows = int(max_rows)
    stream = BinLogStreamReader(
        connection_settings={"host": host, "port": int(port), "user": user, "passwd": password},
        server_id=int(server_id),
        log_file=first_file,
        log_pos=4,
        resume_stream=True,
        blocking=False,
        only_events=[WriteRowsEvent, UpdateRowsEvent],
        only_schemas=[database],
    )
    rows = 0
    touched = 0
    for event in stream:
        for row in event.rows:
            images = [row["before_values"], row["after_values"]] if "after_values" in row else [row["values"]]
            for image in images:
                for value in image.values():
                    touched += 1 if value is not None else 0
            rows += 1
        if rows >= max_rows:
            break
    stream.close()
    print(rows, touched)


if __name__ == "__main__":
    main()
