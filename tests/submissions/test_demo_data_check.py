"""The offline demo's litter survey: the data check finds its planted e-mail column, masked, and nothing else."""

import json
from pathlib import Path

from devhub.datasource import PERSONAL_DATA_FILE, ensure_personal_data_file
from portal.i18n import english
from submissions import cards
from submissions.inspection.report import inspect_location

CARD = Path(__file__).resolve().parents[2] / "submissions" / "demo" / "coastal-litter.md"


def test_demo_survey_shows_a_personal_data_finding(source_server, tmp_path):
    target = tmp_path / PERSONAL_DATA_FILE
    ensure_personal_data_file(target)
    source_server.add_bytes(f"/{PERSONAL_DATA_FILE}", target.read_bytes(), content_type="text/csv")
    metadata = cards.parse_card(CARD.read_bytes(), filename=CARD.name).metadata
    outcome, summary, details = inspect_location(
        source_server.url(f"/{PERSONAL_DATA_FILE}"), modalities=["text"], card_metadata=metadata
    )
    assert (outcome, english(summary)) == ("warn", "CSV, 6 columns, 72 rows; 1 column holds e-mail addresses")
    [finding] = details["personal_data"]
    assert english(finding["place"]) == "column contact" and finding["count"] == 72
    assert finding["examples"] == ["j***@c***.example", "m***@c***.example", "l***@c***.example"]
    assert details["declared"] == []
    assert "@coastwatch.example" not in json.dumps(details)
