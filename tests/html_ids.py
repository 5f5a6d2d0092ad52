"""A page's ids, read structurally: every id once, every label tied to a field that exists."""

from tests.catalog.catalog_rows import parse_html

FIELDS = {"input", "select", "textarea", "button", "output", "meter", "progress"}


def id_problems(content):
    """Return what is wrong with a page's ids and labels: duplicate ids, and labels whose `for` names
    no field of the page (an empty list for a sound page)."""
    elements = parse_html(content).elements
    seen, problems = {}, []
    for tag, attributes in elements:
        if "id" in attributes:
            element_id = attributes["id"]
            if element_id in seen:
                problems.append(f"id {element_id!r} on <{seen[element_id]}> and <{tag}>")
            seen.setdefault(element_id, tag)
    for tag, attributes in elements:
        if tag == "label" and "for" in attributes:
            target = seen.get(attributes["for"])
            if target not in FIELDS:
                problems.append(f"<label for={attributes['for']!r}> names {target or 'nothing'}")
    return problems
