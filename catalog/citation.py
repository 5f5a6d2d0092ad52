"""CITATION.cff (Citation File Format 1.2.0) for a published dataset: on its page and in its Hub repository.

https://github.com/citation-file-format/citation-file-format/blob/main/schema-guide.md
The `license` key must be an SPDX identifier; Hub licence ids without an SPDX twin are given as
`license-url` instead. The authors are the contributor who signed in with ORCID (names and `orcid`), or the
portal when nobody did; a dataset with a DOI is cited by it. The BibTeX and APA citations of the dataset page,
the card and Croissant come from here too. This module only reads the dataset row and its submission.
"""

import re

import yaml
from django.conf import settings
from django.utils import timezone

from catalog import hub, selectors
from submissions.carddata import license_info

FILENAME = "CITATION.cff"

# Hub licence ids whose SPDX identifier is spelled differently (the others have none or are the same).
SPDX_IDS = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "afl-3.0": "AFL-3.0",
    "artistic-2.0": "Artistic-2.0",
    "bsl-1.0": "BSL-1.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-3-clause-clear": "BSD-3-Clause-Clear",
    "cc0-1.0": "CC0-1.0",
    "cc-by-2.0": "CC-BY-2.0",
    "cc-by-2.5": "CC-BY-2.5",
    "cc-by-3.0": "CC-BY-3.0",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-3.0": "CC-BY-SA-3.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-2.0": "CC-BY-NC-2.0",
    "cc-by-nc-3.0": "CC-BY-NC-3.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nd-4.0": "CC-BY-ND-4.0",
    "cc-by-nc-nd-3.0": "CC-BY-NC-ND-3.0",
    "cc-by-nc-nd-4.0": "CC-BY-NC-ND-4.0",
    "cc-by-nc-sa-2.0": "CC-BY-NC-SA-2.0",
    "cc-by-nc-sa-3.0": "CC-BY-NC-SA-3.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
    "cdla-sharing-1.0": "CDLA-Sharing-1.0",
    "cdla-permissive-1.0": "CDLA-Permissive-1.0",
    "cdla-permissive-2.0": "CDLA-Permissive-2.0",
    "wtfpl": "WTFPL",
    "ecl-2.0": "ECL-2.0",
    "epl-1.0": "EPL-1.0",
    "epl-2.0": "EPL-2.0",
    "etalab-2.0": "etalab-2.0",
    "eupl-1.1": "EUPL-1.1",
    "agpl-3.0": "AGPL-3.0-only",
    "gpl-2.0": "GPL-2.0-only",
    "gpl-3.0": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "isc": "ISC",
    "mpl-2.0": "MPL-2.0",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "osl-3.0": "OSL-3.0",
    "postgresql": "PostgreSQL",
    "ofl-1.1": "OFL-1.1",
    "ncsa": "NCSA",
    "unlicense": "Unlicense",
    "zlib": "Zlib",
    "pddl": "PDDL-1.0",
}


def spdx_id(license_id):
    """Return the SPDX identifier of a Hub licence id, or None when SPDX has none."""
    return SPDX_IDS.get(license_id or "")


def citation_data(dataset):
    """Return the CITATION.cff content of a dataset as a dict."""
    url = hub.dataset_url(dataset.repo_id)
    data = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": dataset.name,
        "authors": authors(dataset),
        "repository": url,
        "url": settings.PORTAL_BASE_URL + dataset.get_absolute_url(),
        "identifiers": [{"type": "url", "value": url, "description": "The dataset on the Hugging Face Hub"}],
        "keywords": selectors.keywords_of(dataset),
    }
    if dataset.doi:
        data["doi"] = dataset.doi
        data["identifiers"].insert(
            0, {"type": "doi", "value": dataset.doi, "description": "The DOI of this dataset"}
        )
    data["identifiers"] += [
        {"type": "doi", "value": doi, "description": "The repository record the data comes from"}
        for doi in dataset.source_dois
        if doi != dataset.doi
    ]
    if dataset.paper:
        doi = _doi_of_url(dataset.paper)
        data["identifiers"].append(
            {"type": "doi", "value": doi, "description": "The paper that describes the data"}
            if doi
            else {"type": "url", "value": dataset.paper, "description": "The paper that describes the data"}
        )
    if dataset.code_url:
        data["repository-code"] = dataset.code_url
    if dataset.summary:
        data["abstract"] = dataset.summary
    # The copy committed to the Hub is written just before publication: that day is the release.
    data["date-released"] = (dataset.published_at or timezone.now()).date().isoformat()
    spdx = spdx_id(dataset.license)
    info = license_info(dataset.license) if dataset.license else None
    if spdx:
        data["license"] = spdx
    elif info:
        data["license-url"] = info["url"]
    return data


def authors(dataset):
    """Return the CITATION.cff authors: the people the dataset credits (with their ORCID iDs), else the portal."""
    people = []
    for person in selectors.people_of(dataset):
        entry = {"given-names": person.given_names} if person.family_names else {"name": person.name}
        if person.family_names:
            entry["family-names"] = person.family_names
        if person.orcid:
            entry["orcid"] = person.orcid_url
        if person.affiliation:
            entry["affiliation"] = person.affiliation
        people.append(entry)
    return people or [{"name": settings.PORTAL_NAME}]


def _doi_of_url(url):
    prefix = "https://doi.org/"
    return url[len(prefix) :] if url.startswith(prefix) else None


def citation_cff(dataset):
    """Return the CITATION.cff text of a dataset (YAML)."""
    return yaml.safe_dump(citation_data(dataset), sort_keys=False, allow_unicode=True, width=1000)


def _bibtex_escape(text):
    # Braces and backslashes would end the field early; TeX specials would change the text.
    text = re.sub(r"[\\{}]", "", text)
    return re.sub(r"([&%$#_^~])", r"\\\1", text)


def bibtex(dataset):
    """Return a BibTeX @misc entry citing the dataset: by its DOI when it has one, else on the Hub."""
    escape = _bibtex_escape
    people = selectors.people_of(dataset)
    if people:
        # People: "Family, Given" joined by "and", parsed by BibTeX; the portal is a corporate name, kept
        # whole by braces.
        author = (
            "{"
            + " and ".join(
                escape(", ".join(part for part in (person.family_names, person.given_names) if part))
                for person in people
            )
            + "}"
        )
    else:
        author = "{{" + escape(settings.PORTAL_NAME) + "}}"
    key = re.sub(r"[^A-Za-z0-9]+", "_", dataset.slug).strip("_") or "dataset"
    year = dataset.published_at.year if dataset.published_at else ""
    url = hub.dataset_url(dataset.repo_id)
    lines = [
        f"@misc{{{key}_{year},",
        f"  title        = {{{{{escape(dataset.name)}}}}},",
        f"  author       = {author},",
        f"  year         = {{{year}}},",
        f"  publisher    = {{{escape(publisher(dataset))}}},",
    ]
    if dataset.doi:
        lines.append(f"  doi          = {{{_plain_doi(dataset.doi)}}},")
        lines.append(f"  url          = {{https://doi.org/{_plain_doi(dataset.doi)}}},")
    lines.append(f"  howpublished = {{\\url{{{url}}}}},")
    lines.append(f"  note         = {{Dataset {escape(dataset.repo_id)}}}")
    return "\n".join(lines) + "\n}"


def _plain_doi(doi):
    # A DOI is copied verbatim (biblatex reads the field as such): only what would end the field goes.
    return re.sub(r"[\\{}\s]", "", doi)


def publisher(dataset):
    """Return who publishes the dataset in a citation: the DOI's publisher (DATACITE_PUBLISHER) when the
    portal registered its DOI, else the Hugging Face Hub, where the catalog publishes it."""
    if dataset.doi and dataset.doi not in dataset.source_dois:
        return settings.DATACITE_PUBLISHER
    return "Hugging Face"


def _apa_name(person):
    if not person.family_names:
        return person.name
    initials = " ".join(f"{part[0]}." for part in person.given_names.split() if part)
    return f"{person.family_names}, {initials}".strip(", ")


def apa(dataset):
    """Return an APA (7th edition) reference of the dataset as plain text, with its DOI when it has one."""
    names = [_apa_name(person) for person in selectors.people_of(dataset)] or [settings.PORTAL_NAME]
    if len(names) == 1:
        authors = names[0]
    elif len(names) <= 20:
        authors = ", ".join(names[:-1]) + ", & " + names[-1]
    else:  # APA: the first 19, an ellipsis, the last
        authors = ", ".join(names[:19]) + ", ... " + names[-1]
    year = dataset.published_at.year if dataset.published_at else "n.d."
    link = f"https://doi.org/{dataset.doi}" if dataset.doi else hub.dataset_url(dataset.repo_id)
    authors = authors if authors.endswith(".") else authors + "."
    return f"{authors} ({year}). {dataset.name} [Data set]. {publisher(dataset)}. {link}"
