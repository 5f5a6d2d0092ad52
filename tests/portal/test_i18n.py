"""Stored messages as the timeline and the e-mails use them: nested, joined with typed text, rendered late."""

from django.utils import translation
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.services.transitions import lines

NB = "\u00a0"


def test_a_nested_message_is_translated_with_its_sentence():
    stored = i18n.message(
        gettext_noop(
            "The card has no section on %(section)s. Add one; the Hub's dataset card template shows what to write."
        ),
        section=i18n.message(gettext_noop("its intended uses (## Uses)")),
    )
    assert i18n.english(stored).startswith("The card has no section on its intended uses (## Uses). Add one;")
    with translation.override("fr"):
        assert i18n.translated(stored).startswith(
            "La fiche n’a pas de section sur ses usages prévus (## Uses)."
        )


def test_typed_text_joined_to_a_sentence_is_never_translated():
    stored = lines(i18n.message(gettext_noop("Reason: %(reason)s"), reason="x"), "", "Typed: Reason: y")
    assert i18n.english(stored) == "Reason: x\nTyped: Reason: y"
    with translation.override("fr"):
        assert i18n.translated(stored) == f"Motif{NB}: x\nTyped: Reason: y"
    assert lines("Only typed text.", "") == "Only typed text."


def test_a_lazy_translation_waits_for_the_language_of_its_reader():
    lazy = i18n.translated_lazy(i18n.message(gettext_noop("Reason: %(reason)s"), reason="x"))
    with translation.override("fr"):
        assert str(lazy) == f"Motif{NB}: x"
    with translation.override("en"):
        assert str(lazy) == "Reason: x"
    assert str(i18n.translated_lazy("Typed text")) == "Typed text"
