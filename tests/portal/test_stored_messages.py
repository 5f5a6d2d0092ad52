"""Stored messages (`portal.i18n`): plurals, numbers and sizes, a sentence that opens with a parameter, errors."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.resolvers import ResolveError

NB = "\u00a0"


def french(stored):
    with translation.override("fr"):
        return i18n.translated(stored)


def test_count_is_a_parameter_and_chooses_the_plural_form():
    one = i18n.message_plural("%(count)s file address", "%(count)s file addresses", count=1)
    many = i18n.message_plural("%(count)s file address", "%(count)s file addresses", count=3)
    assert (i18n.english(one), i18n.english(many)) == ("1 file address", "3 file addresses")
    assert (french(one), french(many)) == ("1 adresse de fichier", "3 adresses de fichiers")


def test_numbers_and_sizes_are_written_the_readers_way():
    stored = i18n.message(
        gettext_noop(
            "The files add up to %(size)s, more than the %(limit)s we can host; untick hosting to link the data instead."
        ),
        size=i18n.file_size(1_500_000),
        limit=i18n.number(12_000),
    )
    assert i18n.english(stored).startswith(f"The files add up to 1.4{NB}MB, more than the 12,000 we can host")
    assert french(stored).startswith(f"Les fichiers totalisent 1,4{NB}Mio, plus que les 12{NB}000 que")
    # English stays English whatever the active language.
    with translation.override("fr"):
        assert i18n.english(stored).startswith(f"The files add up to 1.4{NB}MB")


def test_a_list_of_stored_messages_takes_the_readers_separators():
    kinds = [i18n.message(gettext_noop("e-mail addresses")), i18n.message(gettext_noop("phone numbers"))]
    clauses = i18n.joined(["CSV", i18n.number(4_000), *kinds], separator=i18n.CLAUSES)
    assert i18n.english(clauses) == "CSV; 4,000; e-mail addresses; phone numbers"
    assert french(clauses) == f"CSV{NB}; 4{NB}000{NB}; adresses e-mail{NB}; numéros de téléphone"
    assert i18n.english(i18n.joined(["a", "b"])) == "a, b"
    assert (i18n.joined([]), i18n.joined(["only"])) == ("", "only")


def test_a_sentence_that_opens_with_a_parameter_is_capitalised_in_each_language():
    subject = i18n.message(gettext_noop("record %(id)s at %(host)s"), id="12", host="zenodo.org")
    stored = i18n.sentence(
        i18n.message(
            gettext_noop("%(subject)s cannot be read: %(reason)s"), subject=subject, reason="blocked"
        )
    )
    assert i18n.english(stored) == "Record 12 at zenodo.org cannot be read: blocked"
    assert french(stored) == f"Impossible de lire le dépôt 12 sur zenodo.org{NB}: blocked"


def test_an_error_keeps_its_message_and_says_it_in_the_active_language():
    stored = i18n.message(gettext_noop("%(subject)s cannot be followed: %(reason)s"), subject="x", reason="y")
    with pytest.raises(ResolveError) as caught:
        raise ResolveError(stored, retryable=True)
    assert caught.value.message == stored and caught.value.retryable is True
    assert str(caught.value) == "x cannot be followed: y"
    with translation.override("fr"):
        assert str(caught.value) == f"Impossible de suivre x{NB}: y"


def test_plain_text_of_older_rows_is_shown_as_it_is():
    assert french("An English summary written before.") == "An English summary written before."
    assert french(None) == ""
