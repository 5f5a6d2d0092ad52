"""Load demo data: a curator account and a handful of realistic submissions in several states.

Every submission is made and moved through `submissions.services`, exactly as the form and the admin
would, so the demo shows real timelines. Running the command twice changes nothing the second time.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from submissions import cards, curators, services
from submissions.models import Domain, Submission, TermsVersion

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
CURATOR_USERNAME = "curator"
CURATOR_PASSWORD = "curator-demo"  # noqa: S105 - printed for the local demo; loaddemo runs only with DEBUG on

# The offline demo's data source, where `runportal` serves the hosted demo files (its --source-port).
DEMO_SOURCE_URL = "https://127.0.0.1:8801/"

# name, location ({source}: the demo data source), hosting, modalities, domain, e-mail, card file, steps
# after submission
DEMO_SUBMISSIONS = [
    (
        "Baltic Sea buoy temperatures 2010-2024",
        # Served by the offline demo's local https source (devhub.datasource, started by runportal).
        "{source}baltic-buoys-2010-2024.csv",
        True,
        ["text"],
        "Marine",
        "data@baltic-marine.example",
        "baltic-buoys.md",
        ["confirm"],
    ),
    (
        "Coastal litter survey 2023",
        # Also served by the demo source; it holds a column of e-mail addresses that the data check finds.
        "{source}coastal-litter-2023.csv",
        True,
        ["text"],
        "Marine",
        "survey@coastwatch.example",
        "coastal-litter.md",
        ["confirm", "claim"],
    ),
    (
        "Baltic harbour water quality samples 2022",
        # A Zenodo-style record of three files (train, validation, test) whose DOI resolves offline: the demo
        # data source doubles the repositories and the DOI resolver (devhub.repositories).
        "10.5072/zenodo.1001",
        True,
        ["text"],
        "Marine",
        "samples@baltic-marine.example",
        "harbour-water-quality.md",
        ["confirm", "claim"],
    ),
    (
        "Nordic court rulings corpus",
        "https://nordic-legal.example/corpus/rulings.jsonl.gz",
        True,
        ["text"],
        "Legal",
        "open-data@nordic-legal.example",
        "court-rulings.md",
        ["confirm", "claim"],
    ),
    (
        "Alpine bird song recordings",
        "https://museum-alpine.example/collections/bird-song/",
        False,
        ["audio"],
        "Not domain specific",
        "ornithology@museum-alpine.example",
        "bird-song.md",
        ["confirm", "claim", "request_changes"],
    ),
    (
        "Wafer defect maps",
        "https://fab-research.example/datasets/wafer-maps/",
        False,
        ["images"],
        "Semiconductors",
        "research@fab-research.example",
        "wafer-defects.md",
        ["confirm", "claim", "approve"],
    ),
    (
        "City archive photographs 1900-1950",
        "https://stadtarchiv.example/fotos/1900-1950/",
        False,
        ["images", "text"],
        None,
        "archiv@stadtarchiv.example",
        "city-archive.md",
        [],
    ),
]


class Command(BaseCommand):
    help = "Load a curator account and realistic demo submissions (only with DEBUG on)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument(
            "--source-url",
            default=DEMO_SOURCE_URL,
            help="address of the demo data source that serves the hosted demo files",
        )

    def handle(self, *args, force=False, source_url=DEMO_SOURCE_URL, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for local use; run with DEBUG on, or pass --force.")
        curator = self._curator()
        terms = TermsVersion.current()
        made = 0
        for entry in DEMO_SUBMISSIONS:
            if self._load(entry, curator=curator, terms=terms, source_url=source_url.rstrip("/") + "/"):
                made += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({made} new submissions)."))
        self.stdout.write(
            f"Sign in to the curators' admin at {settings.PORTAL_BASE_URL}/admin/ as "
            f"“{CURATOR_USERNAME}” with the password “{CURATOR_PASSWORD}”."
        )

    def _curator(self):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=CURATOR_USERNAME,
            defaults={"email": "curator@localhost", "first_name": "Demo", "last_name": "Curator"},
        )
        if created:
            user.set_password(CURATOR_PASSWORD)
            user.save()
        curators.make_curator(user)
        return user

    @transaction.atomic
    def _load(self, entry, *, curator, terms, source_url):
        name, location, hosting, modalities, domain_name, email, card_file, steps = entry
        location = location.format(source=source_url)
        if Submission.objects.filter(name=name).exists():
            return False
        raw = (DEMO_DIR / card_file).read_bytes()
        parsed = cards.parse_card(raw, filename=card_file)
        domain = Domain.objects.filter(name=domain_name).first() if domain_name else None
        submission, _ = services.submit(
            submission_key=uuid.uuid5(uuid.NAMESPACE_URL, location),
            name=name,
            location=location,
            hosting_wanted=hosting,
            card=parsed,
            card_raw=raw,
            card_filename=card_file,
            modalities=modalities,
            domain=domain,
            suggested_domain="" if domain else "Cultural heritage",
            contact_email=email,
            terms=terms,
        )
        for step in steps:
            submission = self._step(step, submission, curator=curator)
        return True

    def _step(self, step, submission, *, curator):
        if step == "confirm":
            return services.confirm(submission)
        if step == "claim":
            return services.claim(submission, by=curator)
        if step == "request_changes":
            return services.request_changes(
                submission,
                by=curator,
                message="Thank you! Could you add the licence of the recordings to the card's YAML header "
                "(for example `license: cc-by-sa-4.0`), and a section on intended uses?",
            )
        if step == "approve":
            return services.approve(
                submission,
                by=curator,
                checklist=services.ReviewChecklist.all_ticked(),
                note="Complete card, clear licence.",
                # The demo's made-up hosts are unreachable: should the checks have run, their failure is overridden.
                concerns_override="Demo data: the location is made up.",
            )
        raise CommandError(f"Unknown demo step {step!r}")
