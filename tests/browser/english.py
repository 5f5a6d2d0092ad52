"""Find English left on a page that should be in another language (French): what the browser tests of the
translation use.

The text is what a reader meets: the page's visible text (innerText, with every <details> opened), its
title, and the words a screen reader says or a pointer shows (aria-label, title, placeholder, alt, the value
of an input button). Data is left out, because it is legitimately in any language: an element marked
`translate="no"` (HTML's own way to say "do not translate this": a dataset's name, its card, a person's
message, a citation), an element whose `lang` differs from the page's (the switcher's "English"), code, and
in what remains, addresses, e-mail addresses, DOIs, file names and identifiers.

A sentence is English when it holds at least two different English function words ("the", "your", "with",
...): words a French sentence does not use, so a translated page is not flagged for a name left in English,
and an English sentence of three words already is. Words that are also French ("a", "on", "or", "an", "as",
"but", "me", "no", "don") are left out of the list; "in" ("in situ") stays, as one word alone never flags
a sentence. Other languages share more of these words (Dutch "is", German "was"): the list is for French.
"""

import re

_WORDS = """
the and your yours with this that these those to of is are was were be been being am you for not has
have had having will would should could can cannot may might must shall do does did doesn isn aren
wasn weren didn haven hasn won wouldn shouldn couldn it its we our they their them he she his her
him my from by at in into onto about after before when where what which who whom whose why how there
here than then please yet also only just any each every some such other once out up over under until
while because if so through without within between during whether although
"""
# English function words (see the module docstring for those left out).
FUNCTION_WORDS = frozenset(_WORDS.split())

# Data inside a sentence: an address, an e-mail address, a DOI, a file name, an identifier with _ or /.
DATA = re.compile(
    r"""
      \b[a-z][a-z0-9+.-]*://\S+        # an address
    | \S+@\S+                          # an e-mail address
    | \b10\.\d{4,9}/\S+                # a DOI
    | \S+\.[A-Za-z0-9]{1,5}\b          # a file name (a sentence's full stop has no letter after it)
    | \S*[\w][_/][\w]\S*               # snake_case, paths and repository ids
    """,
    re.VERBOSE,
)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s+[·|]\s+")
WORD = re.compile(r"[^\W\d_]+")
THRESHOLD = 2  # different function words in one sentence

# Run in the page: its title, its visible text without data, the texts of attributes, and the data's texts
# (a dataset's name is also in the page's title and in labels such as "ORCID iD of <name>").
PAGE_TEXT = """
() => {
  const pageLang = (document.documentElement.lang || "").toLowerCase().split("-")[0];
  const isData = (element) => {
    const marked = element.closest("[lang]");
    if (marked && marked !== document.documentElement
        && marked.lang.toLowerCase().split("-")[0] !== pageLang) return true;
    return Boolean(element.closest('[translate="no"], code, pre, kbd, samp, script, style, template'));
  };
  const opened = [];
  for (const details of document.querySelectorAll("details:not([open])")) {
    details.open = true;
    opened.push(details);
  }
  const data = [];
  const hidden = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (isData(element) && !isData(element.parentElement)) {
      data.push(element.innerText);
      const style = element.style;
      hidden.push([style, style.getPropertyValue("display"), style.getPropertyPriority("display")]);
      style.setProperty("display", "none", "important");
    }
  }
  const texts = [document.title, document.body.innerText];
  for (const [style, value, priority] of hidden) style.setProperty("display", value, priority);
  for (const details of opened) details.open = false;
  const attributes = ["aria-label", "title", "placeholder", "alt", "aria-description"];
  for (const element of document.body.querySelectorAll("*")) {
    if (isData(element)) continue;
    for (const name of attributes) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
    if (element.matches("input[type=submit], input[type=button], input[type=reset]")) texts.push(element.value);
  }
  return {texts, data};
}
"""


def function_words(sentence):
    """Return the set of English function words in `sentence`, once its data (addresses, files) is removed."""
    words = WORD.findall(DATA.sub(" ", sentence))
    return {word.lower() for word in words} & FUNCTION_WORDS


def sentences(text):
    """Split a text into sentences: its lines and cells, then at each full stop, '·' or '|'."""
    for line in re.split(r"[\n\t]+", text):
        for sentence in SENTENCE_END.split(line):
            if sentence.strip():
                yield " ".join(sentence.split())


def english_sentences(text):
    """Return the sentences of `text` that are English, each once, in their order."""
    found = []
    for sentence in sentences(text):
        if len(function_words(sentence)) >= THRESHOLD and sentence not in found:
            found.append(sentence)
    return found


def page_texts(page, data=()):
    """Return the texts a reader meets on the open page, without its data: the elements marked as data (see
    PAGE_TEXT), and wherever they are repeated, their texts and those of `data` (a name quoted in a heading)."""
    found = page.evaluate(PAGE_TEXT)
    known = sorted({text.strip() for text in [*found["data"], *data] if len(text.strip()) > 3}, key=len)
    texts = []
    for text in found["texts"]:
        for datum in reversed(known):  # the longest first: a name inside another is removed with it
            text = text.replace(datum, " ")
        texts.append(text)
    return texts


def english_on(page, data=()):
    """Return the English sentences of the page open in `page`; `data` are texts the page may quote."""
    found = []
    for text in page_texts(page, data):
        found += [sentence for sentence in english_sentences(text) if sentence not in found]
    return found
