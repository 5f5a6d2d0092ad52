"""The catalog's view of a stored data check: its table's columns, as `[{"name", "type"}]`."""


def catalog_columns(details):
    """Return the table schema of a data check's details as the catalog stores it: [{name, type}]."""
    table = (details or {}).get("table") or {}
    return [{"name": column["name"], "type": column["type"]} for column in table.get("columns", [])]
