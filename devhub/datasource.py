"""An https data source on 127.0.0.1 for the offline demo, so that a hosted dataset can be mirrored end to end.

`python -m devhub.datasource --port 8801 --dir var/demo-source --files var/demo-data` makes a self-signed
certificate for 127.0.0.1 in `--dir` with the `openssl` command (once), writes the demo data file into
`--files` (once), and serves that folder over https: any file dropped there is at
`https://127.0.0.1:8801/<its name>`, ready to be a dataset location. The same server speaks the repository
doubles of `devhub.repositories` and serves their demo record: a Zenodo-style record of three CSV files at
`https://127.0.0.1:8801/records/1001`, DOI `10.5072/zenodo.1001`, which resolves offline through
`https://127.0.0.1:8801/doi/`. `manage.py runportal` starts it when no HF_TOKEN is set, and points the
portal's fetch allow-list, CA bundle and DOI_RESOLVER_URL at it. For the demo only: it binds 127.0.0.1 and
serves anything in that folder.
"""

import argparse
import contextlib
import csv
import math
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devhub.repositories import RepositoryDouble, add_demo_record

DEMO_FILE = "baltic-buoys-2010-2024.csv"
# A small survey whose contributor forgot a column of volunteers' e-mail addresses: the data check finds it.
PERSONAL_DATA_FILE = "coastal-litter-2023.csv"
BEACHES = ["Texel", "Sylt", "Rømø", "Skagen", "Borkum", "Scheveningen"]
VOLUNTEERS = ["anna.berg", "jan.devries", "mette.holm", "lukas.meyer", "sofie.jansen", "erik.lund"]


def ensure_certificate(folder):
    """Return (certificate, key) paths, creating a self-signed certificate for 127.0.0.1 if needed."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists() or not key.exists():
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "825",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
            check=True,
            capture_output=True,
        )
    return cert, key


def ensure_demo_files(files):
    """Write the demo datasets' files (hourly buoy temperatures, about 2 MB; a litter survey) if missing."""
    files.mkdir(parents=True, exist_ok=True)
    ensure_personal_data_file(files / PERSONAL_DATA_FILE)
    target = files / DEMO_FILE
    if target.exists():
        return
    start = datetime(2010, 1, 1, tzinfo=UTC)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "buoy", "depth_m", "temperature_c", "quality_flag"])
        for hour in range(0, 24 * 365 * 15, 6):
            moment = start + timedelta(hours=hour)
            season = math.sin(2 * math.pi * (moment.timetuple().tm_yday - 100) / 365)
            for buoy in ("B01", "B07"):
                writer.writerow([moment.isoformat(), buoy, 2, f"{9 + 8 * season + (hour % 5) / 10:.2f}", 1])


def ensure_personal_data_file(target):
    """Write the litter survey with its planted e-mail column (the demo's personal-data finding)."""
    if target.exists():
        return
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["survey_date", "beach", "volunteer", "contact", "litter_items", "plastic_share"])
        for month in range(1, 13):
            for index, beach in enumerate(BEACHES):
                volunteer = VOLUNTEERS[(month + index) % len(VOLUNTEERS)]
                initials = "".join(part[0].upper() for part in volunteer.split("."))
                items = 40 + (month * 37 + index * 11) % 160
                writer.writerow(
                    [
                        f"2023-{month:02d}-15",
                        beach,
                        initials,
                        f"{volunteer}@coastwatch.example",
                        items,
                        0.6 + index / 50,
                    ]
                )


def main(argv=None):
    """Serve the demo files and the repository doubles over https on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devhub.datasource", description=__doc__)
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--dir", default="var/demo-source", help="where the certificate is kept")
    parser.add_argument("--files", default=None, help="the folder served (default: --dir/files)")
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    served = Path(args.files) if args.files else folder / "files"
    cert, key = ensure_certificate(folder)
    ensure_demo_files(served)
    server = RepositoryDouble(cert_file=cert, key_file=key, port=args.port, folder=served)
    record = add_demo_record(server)
    print(
        f"demo data source serving https://127.0.0.1:{args.port}/ from {served} (CA: {cert}); "
        f"demo record {record.landing_url}, DOI {record.doi}"
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
