"""Accessibility checks of a page open in Playwright: a few basic rules always, axe-core when installed.

The basic rules are what STYLE.md promises (every input has a label, one h1, a language); axe-core comes
from the axe-playwright-python package, which ships its JavaScript, so the check works offline.
"""

BASIC_CHECKS = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute("lang");
  if (!lang) problems.push("the html element has no lang attribute");
  const h1s = document.querySelectorAll("h1").length;
  if (h1s !== 1) problems.push(`${h1s} h1 elements instead of one`);
  for (const img of document.querySelectorAll("img:not([alt])")) {
    problems.push(`image without alt: ${img.getAttribute("src")}`);
  }
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea"
  );
  for (const field of fields) {
    const labelled = (field.labels && field.labels.length)
      || field.getAttribute("aria-label") || field.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`field without a label: ${field.name || field.id}`);
  }
  const ids = {};
  for (const element of document.querySelectorAll("[id]")) {
    ids[element.id] = (ids[element.id] || 0) + 1;
  }
  for (const [id, count] of Object.entries(ids)) {
    if (count > 1) problems.push(`id used ${count} times: ${id}`);
  }
  if (!document.title.trim()) problems.push("the page has no title");
  return problems;
}
"""

SERIOUS = {"serious", "critical"}


def basic_problems(page):
    """Return a list of the basic accessibility problems of the page (empty when there are none)."""
    return page.evaluate(BASIC_CHECKS)


def axe_violations(page):
    """Return 'rule: n nodes' for each serious or critical axe-core violation of the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {len(violation['nodes'])} nodes, e.g. "
        f"{violation['nodes'][0]['target']}"
        for violation in results.response["violations"]
        if violation.get("impact") in SERIOUS
    ]
