"""The data check: a bounded look at the data itself before curators approve it (issue 10).

`report.inspect_location` is the entry point (called by `submissions.checks.check_data`); `sampling`
fetches through `portal.safefetch`, `formats` tells what the bytes are, `tables`, `manifests` and `media`
describe them, `personal_data` finds and masks personal data, `declared` compares with the submission.
`columns` turns a stored result into the catalog's column list and imports none of the heavy readers.
"""
